-- Pulls by access path, per registry and day: by which network path did each day's pulls
-- arrive?
SELECT
  registry,
  date_trunc('day', time) AS day,
  access_path,
  count(*) AS pulls,
  sum(size_bytes) AS bytes
FROM repository_events
WHERE operation = 'Pull'
GROUP BY registry, date_trunc('day', time), access_path
ORDER BY registry, day, access_path
