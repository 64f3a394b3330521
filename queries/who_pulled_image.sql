-- Which addresses pulled a given image, by which path?
-- param image: prod/api
-- (`--param image=REPOSITORY` or `--param image=REPOSITORY:TAG`)
SELECT
  caller_ip,
  access_path,
  caller_kind,
  identity,
  count(*) AS pulls,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM repository_events
WHERE operation = 'Pull'
  AND (repository = $image OR concat(repository, ':', tag) = $image)
GROUP BY caller_ip, access_path, caller_kind, identity
ORDER BY pulls DESC, caller_ip, access_path
