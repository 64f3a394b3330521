-- Requests the registry firewall denied, by caller: who keeps knocking?
SELECT
  registry,
  caller_ip,
  named_range,
  caller_kind,
  identity,
  count(*) AS denied,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM events
WHERE access_path = 'denied'
GROUP BY registry, caller_ip, named_range, caller_kind, identity
ORDER BY registry, denied DESC, caller_ip
