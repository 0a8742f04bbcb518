-- dim_dates: French public holidays (the national days of metropolitan France, from the
-- `holidays` package; no regional ones such as Alsace-Moselle's), beside the TARGET2 closing
-- days that decide a business day. Existing rows get theirs at the next load of dim_dates.
alter table dw.dim_dates
    add column is_french_holiday boolean not null default false,
    add column french_holiday_name text;
