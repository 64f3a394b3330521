-- The share of each repository's successful pulls that came over a private endpoint.
SELECT
  registry,
  repository,
  count(*) AS pulls,
  sum(CASE WHEN access_path = 'private_endpoint' THEN 1 ELSE 0 END) AS private_endpoint_pulls,
  round(100.0 * sum(CASE WHEN access_path = 'private_endpoint' THEN 1 ELSE 0 END) / count(*), 1) AS private_endpoint_pct
FROM repository_events
WHERE operation = 'Pull' AND status < 400
GROUP BY registry, repository
ORDER BY registry, repository
