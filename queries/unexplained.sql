-- Requests that succeeded although the registry's rules deny their caller and no bypass
-- explains them: the anomalies an audit must see, each with its reason.
SELECT
  time,
  registry,
  operation,
  repository,
  caller_ip,
  identity,
  status,
  access_reason
FROM events
WHERE access_path = 'unexplained'
ORDER BY time
