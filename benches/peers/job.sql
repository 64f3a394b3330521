-- The benchmark job: events and bytes by day, repository and access path.
SELECT to_char(time, '%Y-%m-%d') AS day, repository, access_path,
       count(*) AS events, sum(size_bytes) AS bytes
FROM events
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
