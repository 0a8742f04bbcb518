-- dim_dates. Grain: one row per calendar day of 2015-2035 (key YYYYMMDD). TARGET2 holidays mark non-business days.
create table if not exists dw.dim_dates (
    date_key            integer primary key,
    full_date           date not null unique,
    day_of_week         smallint not null check (day_of_week between 1 and 7),  -- ISO: 1 = Monday
    day_name            text not null,
    day_of_month        smallint not null,
    day_of_year         smallint not null,
    iso_week            smallint not null,
    iso_year            smallint not null,
    month               smallint not null check (month between 1 and 12),
    month_name          text not null,
    quarter             smallint not null check (quarter between 1 and 4),
    year                smallint not null,
    is_weekend          boolean not null,
    is_target2_holiday  boolean not null,
    is_business_day     boolean not null,
    is_month_end        boolean not null
);
insert into dw.dim_dates values
    (-1, '0001-01-01', 1, 'Unknown', 1, 1, 1, 1, 1, 'Unknown', 1, 1, false, false, false, false)
on conflict do nothing;
