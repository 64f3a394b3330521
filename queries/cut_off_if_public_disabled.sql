-- Callers that would lose access if public network access were disabled: everyone who got in
-- over a public path other than the trusted-service bypass. Microsoft-owned addresses may keep
-- access through the bypass if they are trusted services; the last column says so.
SELECT
  registry,
  caller_ip,
  caller_kind,
  access_path,
  count(*) AS requests,
  max(time) AS last_seen,
  CASE WHEN access_path = 'public_azure' THEN 'maybe, if a trusted service' ELSE 'no' END AS keeps_access
FROM events
WHERE access_path IN ('ip_rule', 'public_azure', 'public_internet') AND status < 400
GROUP BY registry, caller_ip, caller_kind, access_path
ORDER BY registry, requests DESC, caller_ip
