-- Pulls that came through the trusted-service firewall bypass, by identity and Azure service:
-- who relies on the bypass, and from which service tag?
SELECT
  registry,
  identity,
  caller_kind,
  service_tag,
  count(*) AS pulls,
  min(time) AS first_seen,
  max(time) AS last_seen
FROM repository_events
WHERE access_path = 'trusted_service' AND operation = 'Pull'
GROUP BY registry, identity, caller_kind, service_tag
ORDER BY registry, pulls DESC, identity
