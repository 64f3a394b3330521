-- Pulls from the public internet (not Microsoft-owned addresses), with country and AS.
SELECT
  registry,
  caller_ip,
  country,
  asn,
  as_org,
  caller_kind,
  count(*) AS pulls
FROM repository_events
WHERE access_path = 'public_internet' AND operation = 'Pull'
GROUP BY registry, caller_ip, country, asn, as_org, caller_kind
ORDER BY registry, pulls DESC, caller_ip
