// Tests run in UTC so calendar-day logic does not depend on the machine's zone.
process.env['TZ'] = 'UTC';
