-- The benchmark job: events and bytes by day, repository and access path. The day is the
-- event's date (a cast, grouped as a number), not a formatted string.
SELECT CAST(time AS DATE) AS day, repository, access_path,
       count(*) AS events, sum(size_bytes) AS bytes
FROM events
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
