//! Exports read where they live: `acrlens` against a real Azure Blob endpoint (Azurite), with
//! fixtures written as real append blobs in the layout of a registry's diagnostic setting.

#![allow(clippy::unwrap_used)]

mod azurite;
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use azurite::{Azurite, Throttler, hour_blob, pull};
use common::assert_exit;
use sonic_rs::JsonValueTrait;

const LOGIN: &str = "insights-logs-containerregistryloginevents";
const REPOSITORY: &str = "insights-logs-containerregistryrepositoryevents";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every row of a store as sorted JSON lines, each record's `source` cut to the part after
/// `strip` (so a blob and its local copy compare equal).
fn store_rows(az: &Azurite, store: &Path, strip: &str) -> Vec<String> {
    let out = az.acrlens(&[
        "query",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        "SELECT * FROM events",
    ]);
    assert_exit(&out, 0);
    let mut rows: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.replace(strip, ""))
        .collect();
    rows.sort();
    rows
}

/// The runs recorded in a store, oldest first.
fn runs(store: &Path) -> Vec<sonic_rs::Value> {
    fs::read_to_string(store.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| sonic_rs::from_str(l).unwrap())
        .collect()
}

fn count(run: &sonic_rs::Value, key: &str) -> u64 {
    run[key].as_u64().unwrap()
}

/// Every file of a store with its bytes: what "unchanged" is checked against.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(files(&path));
        } else {
            all.insert(path.display().to_string(), fs::read(&path).unwrap());
        }
    }
    all
}

#[test]
fn the_samples_read_from_blobs_equal_the_samples_read_from_disk() {
    let Some(az) = Azurite::start() else { return };
    az.fixture(&["upload-tree", "sample-logs/exports"]);
    let dir = tempfile::tempdir().unwrap();
    let (from_blobs, from_disk) = (dir.path().join("blobs"), dir.path().join("disk"));
    let config = ["--config", "sample-logs/topology/acrlens.toml"];
    let login = format!("az://{LOGIN}");
    let repository = format!("az://{REPOSITORY}/resourceId=/SUBSCRIPTIONS/");
    let mut args = vec!["ingest", &login, &repository, "--store"];
    args.push(from_blobs.to_str().unwrap());
    args.extend(config);
    assert_exit(&az.acrlens(&args), 0);
    let mut args = vec!["ingest", "sample-logs/exports", "--store"];
    args.push(from_disk.to_str().unwrap());
    args.extend(config);
    assert_exit(&az.acrlens(&args), 0);

    let blob_prefix = format!("{}/devstoreaccount1/", az.url());
    let blobs = store_rows(&az, &from_blobs, &blob_prefix);
    let disk = store_rows(&az, &from_disk, "sample-logs/exports/");
    assert_eq!(blobs.len(), 286);
    assert_eq!(blobs, disk);
    // The blob rows did name their blobs (the comparison cut that prefix away).
    let raw = store_rows(&az, &from_blobs, "");
    assert!(raw.iter().all(|r| r.contains(&blob_prefix)), "{}", raw[0]);

    // The same SQL straight over the blobs, without a store.
    let out = az.acrlens(&[
        "query",
        "--logs",
        &login,
        "--logs",
        &repository,
        "--config",
        "sample-logs/topology/acrlens.toml",
        "--format",
        "csv",
        "SELECT access_path, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
    ]);
    assert_exit(&out, 0);
    let over_disk = az.acrlens(&[
        "query",
        "--logs",
        "sample-logs/exports",
        "--config",
        "sample-logs/topology/acrlens.toml",
        "--format",
        "csv",
        "SELECT access_path, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
    ]);
    assert_eq!(text(&out.stdout), text(&over_disk.stdout));

    // The report, from blobs and local files mixed, is the report of the files.
    let report = |logs: &[&str]| {
        let mut args = vec!["report"];
        for input in logs {
            args.extend(["--logs", input]);
        }
        args.extend(["--config", "sample-logs/topology/acrlens.toml"]);
        args.extend(["--policy", "sample-logs/policy.toml", "--format", "json"]);
        let out = az.acrlens(&args);
        assert_exit(&out, 1);
        text(&out.stdout)
    };
    let local_repository = format!("sample-logs/exports/{REPOSITORY}");
    assert_eq!(
        report(&[&login, &local_repository]),
        report(&["sample-logs/exports"])
    );
}

#[test]
fn records_appended_to_a_blob_are_added_once_and_a_cut_line_is_read_whole_later() {
    let Some(az) = Azurite::start() else { return };
    let blob = hour_blob("CONTOSO", 3, 10);
    let lines: Vec<String> = (0..5).map(|n| pull(n, 3, 10)).collect();
    let (head, tail) = lines[3].split_at(40);
    az.append(REPOSITORY, &blob, &(lines[..3].concat() + head));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let input = format!("az://{REPOSITORY}");
    let ingest = ["ingest", &input, "--store", store.to_str().unwrap()];

    assert_exit(&az.acrlens(&ingest), 0);
    az.append(REPOSITORY, &blob, &(tail.to_owned() + &lines[4]));
    assert_exit(&az.acrlens(&ingest), 0);
    assert_exit(&az.acrlens(&ingest), 0);

    let runs = runs(&store);
    assert_eq!(runs.len(), 3);
    // First: three whole lines, the cut one quarantined as still being written.
    assert_eq!(count(&runs[0], "written"), 3);
    assert_eq!(count(&runs[0], "quarantined"), 1);
    // Then only the new tail, from the start of the cut line: it and the one after.
    assert_eq!(count(&runs[1], "resumed"), 1);
    assert_eq!(count(&runs[1], "written"), 2);
    assert_eq!(count(&runs[1], "quarantined"), 0);
    // Then nothing: the blob is unchanged.
    assert_eq!(count(&runs[2], "unchanged"), 1);
    assert_eq!(count(&runs[2], "written"), 0);
    let rows = store_rows(&az, &store, "");
    assert_eq!(rows.len(), 5);
    for n in 0..5 {
        let tag = format!("\"tag\":\"v{n}\"");
        assert_eq!(rows.iter().filter(|r| r.contains(&tag)).count(), 1, "{n}");
    }
    let manifest = fs::read_to_string(store.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"etag\""), "{manifest}");
    // Three list calls and two reads: the second run read only the tail.
    assert_eq!(blob_reads(&az), 2, "{:?}", az.requests());
}

#[test]
fn a_replaced_blob_is_reported_and_not_read_twice() {
    let Some(az) = Azurite::start() else { return };
    let blob = hour_blob("CONTOSO", 3, 11);
    let lines: String = (10..14).map(|n| pull(n, 3, 11)).collect();
    az.append(REPOSITORY, &blob, &lines);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let input = format!("az://{REPOSITORY}");
    let ingest = ["ingest", &input, "--store", store.to_str().unwrap()];
    assert_exit(&az.acrlens(&ingest), 0);

    // The same size under a new ETag, then a smaller blob: both replaced, neither re-read.
    let same_size: String = (20..24).map(|n| pull(n, 3, 11)).collect();
    assert_eq!(same_size.len(), lines.len());
    for replacement in [same_size, pull(20, 3, 11)] {
        az.replace(REPOSITORY, &blob, &replacement);
        let out = az.acrlens(&ingest);
        assert_exit(&out, 1);
        let stderr = text(&out.stderr);
        assert!(stderr.contains("changed in place"), "{stderr}");
        assert!(stderr.contains(&blob), "{stderr}");
    }
    assert_eq!(store_rows(&az, &store, "").len(), 4);
}

#[test]
fn wrong_credentials_and_missing_containers_are_one_clear_error() {
    let Some(az) = Azurite::start() else { return };
    az.append(LOGIN, &hour_blob("CONTOSO", 3, 10), &pull(1, 3, 10));
    let input = format!("az://{LOGIN}");
    let wrong_key = "bm90LXRoZS1rZXktbm90LXRoZS1rZXktbm90LXRoZS1rZXk=";
    let out = az
        .command(
            &["ingest", &input],
            &[("AZURE_STORAGE_ACCOUNT_KEY", wrong_key)],
        )
        .output()
        .unwrap();
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "access denied to container \"{LOGIN}\" of storage account \"devstoreaccount1\""
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && stdout_is_empty(&out),
        "{stderr}"
    );

    let out = az.acrlens(&["ingest", "az://no-such-container"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "container \"no-such-container\" of storage account \"devstoreaccount1\" does not exist"
        ),
        "{stderr}"
    );
    let out = az.acrlens(&["ingest", &format!("{input}/resourceId=/NO/SUCH/PREFIX")]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("no blob matches"),
        "{}",
        text(&out.stderr)
    );
}

fn stdout_is_empty(out: &std::process::Output) -> bool {
    out.stdout.is_empty()
}

#[test]
fn a_time_window_lists_only_the_folders_it_may_need() {
    let Some(az) = Azurite::start() else { return };
    // One blob at 00:00 and one at 12:00 of every day of November, in a local tree first.
    let dir = tempfile::tempdir().unwrap();
    for day in 1..=30 {
        for hour in [0, 12] {
            let path = dir
                .path()
                .join(REPOSITORY)
                .join(hour_blob("CONTOSO", day, hour));
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, pull(day as usize * 100 + hour as usize, day, hour)).unwrap();
        }
    }
    az.fixture(&["upload-tree", dir.path().to_str().unwrap()]);
    let input = format!("az://{REPOSITORY}");
    let out = az.acrlens(&[
        "ingest",
        &input,
        "--since",
        "2025-11-15",
        "--until",
        "2025-11-16",
        "--summary",
        "json",
    ]);
    assert_exit(&out, 0);
    let summary: sonic_rs::Value = sonic_rs::from_slice(&out.stdout).unwrap();
    let listing = &summary["listings"][0];
    // With the 48-hour filing margin the window needs the folders of 13 to 17 November.
    assert_eq!(listing["blobs"].as_u64(), Some(10), "{listing:?}");
    // One call per level down to the registry (root, resourceId=, SUBSCRIPTIONS, the
    // subscription, RESOURCEGROUPS, the group, PROVIDERS, the provider, REGISTRIES, the
    // registry), one for y=2025 and one for m=11, then one flat list per day folder.
    let expected = 10 + 2 + 5;
    assert_eq!(
        listing["list_calls"].as_u64(),
        Some(expected),
        "{listing:?}"
    );
    assert_eq!(az.list_calls(), expected as usize);
    assert_eq!(summary["totals"]["accepted"].as_u64(), Some(2));
    assert_eq!(summary["totals"]["out_of_window"].as_u64(), Some(8));

    // Without a window the prefix is listed flat: one call for all 60 blobs.
    let before = az.list_calls();
    let out = az.acrlens(&["ingest", &input, "--summary", "json"]);
    assert_exit(&out, 0);
    let summary: sonic_rs::Value = sonic_rs::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["listings"][0]["blobs"].as_u64(), Some(60));
    assert_eq!(az.list_calls() - before, 1);
}

#[test]
fn two_shards_fill_one_store_as_one_run_does() {
    let Some(az) = Azurite::start() else { return };
    az.fixture(&["upload-tree", "sample-logs/exports"]);
    let dir = tempfile::tempdir().unwrap();
    let (sharded, whole) = (dir.path().join("sharded"), dir.path().join("whole"));
    let login = format!("az://{LOGIN}");
    let repository = format!("az://{REPOSITORY}");
    let ingest = |store: &Path, shard: &[&str]| {
        let store = store.to_str().unwrap();
        let config = "sample-logs/topology/acrlens.toml";
        let args = [
            "ingest",
            &login,
            &repository,
            "--config",
            config,
            "--store",
            store,
        ];
        assert_exit(&az.acrlens(&[&args[..], shard].concat()), 0);
    };
    ingest(&sharded, &["--shard", "0/2"]);
    ingest(&sharded, &["--shard", "1/2"]);
    ingest(&whole, &[]);
    let runs = runs(&sharded);
    let inputs: Vec<u64> = runs.iter().map(|r| count(r, "inputs")).collect();
    assert!(
        inputs.iter().all(|&n| n > 10),
        "an uneven split: {inputs:?}"
    );
    assert_eq!(inputs.iter().sum::<u64>(), 85);
    assert_eq!(store_rows(&az, &sharded, ""), store_rows(&az, &whole, ""));
    let out = az.acrlens(&["ingest", &login, "--shard", "2/2"]);
    assert_exit(&out, 2);
}

/// Twelve blobs of about 3 MB each (about 78,000 distinct records in all): far more than one
/// run reads in the moment a test needs to stop it.
fn upload_big(az: &Azurite, dir: &Path) -> usize {
    let tree = dir.join("tree");
    let mut n = 0;
    for hour in 0..12 {
        let path = tree.join(REPOSITORY).join(hour_blob("BIG", 4, hour));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut text = String::new();
        while text.len() < 3 << 20 {
            text.push_str(&pull(n, 4, hour));
            n += 1;
        }
        fs::write(path, text).unwrap();
    }
    az.fixture(&["upload-tree", tree.to_str().unwrap()]);
    n
}

/// Requests for the content of a blob so far.
fn blob_reads(az: &Azurite) -> usize {
    az.requests()
        .iter()
        .filter(|r| r.contains("PT1H.json"))
        .count()
}

/// Waits until `acrlens` has asked for the content of a blob, after `before` such requests.
fn wait_for_a_read(az: &Azurite, before: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while blob_reads(az) <= before {
        assert!(Instant::now() < deadline, "acrlens read no blob");
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn azurite_stopped_mid_run_fails_the_run_and_leaves_the_store_as_it_was() {
    let Some(mut az) = Azurite::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store_arg = store.to_str().unwrap();
    assert_exit(
        &az.acrlens(&["ingest", "sample-logs/exports", "--store", store_arg]),
        0,
    );
    let before = files(&store);
    upload_big(&az, dir.path());
    let input = format!("az://{REPOSITORY}");
    let run = az
        .command(
            &["ingest", &input, "--store", store_arg, "--threads", "1"],
            &[],
        )
        .args(["--blob-retries", "2", "--blob-retry-timeout", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Stop the emulator as soon as the first blob is being read.
    wait_for_a_read(&az, 0);
    az.kill();
    let out = run.wait_with_output().unwrap();
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("could not be read to its end"), "{stderr}");
    assert!(stderr.contains("nothing was committed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(files(&store), before, "the store changed");
    // And it still reads as before.
    let out = az.acrlens(&[
        "query",
        "--store",
        store_arg,
        "SELECT count(*) AS n FROM events",
    ]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("286"), "{}", text(&out.stdout));
}

/// Runs `acrlens` with `args` through a proxy that answers its first `refuse` connections with
/// `503 Server Busy`; its output and how many connections the proxy refused.
fn throttled(az: &Azurite, refuse: usize, args: &[&str]) -> (std::process::Output, usize) {
    let proxy = Throttler::start(az.port, refuse);
    let url = format!("http://127.0.0.1:{}", proxy.port);
    let out = az
        .command(args, &[("AZURITE_BLOB_STORAGE_URL", &url)])
        .output()
        .unwrap();
    (out, proxy.refused())
}

#[test]
fn a_throttled_account_is_retried_with_backoff_and_a_lasting_one_is_an_error() {
    let Some(az) = Azurite::start() else { return };
    let lines: String = (0..3).map(|n| pull(n, 3, 12)).collect();
    az.append(REPOSITORY, &hour_blob("CONTOSO", 3, 12), &lines);
    let input = format!("az://{REPOSITORY}");

    // Three 503s, then the service answers: the run goes through with every record.
    let (out, refused) = throttled(&az, 3, &["ingest", &input, "--summary", "json"]);
    assert_exit(&out, 0);
    let summary: sonic_rs::Value = sonic_rs::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["totals"]["accepted"].as_u64(), Some(3));
    assert_eq!(refused, 3);

    // Throttled for longer than the retries allow: one clear error, exit 2.
    let (out, refused) = throttled(&az, 100, &["ingest", &input, "--blob-retries", "2"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("listing container"), "{stderr}");
    assert!(stderr.contains("503"), "{stderr}");
    assert_eq!(refused, 3);
}

#[test]
fn runs_killed_at_any_point_and_run_again_leave_every_blob_record_once() {
    let Some(az) = Azurite::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let records = upload_big(&az, dir.path());
    let store = dir.path().join("store");
    let input = format!("az://{REPOSITORY}");
    let args = ["ingest", &input, "--store", store.to_str().unwrap()];
    // Killed as soon as it reads, then later and later: before, during and after its commit.
    for delay in [0, 300, 900, 1800, 3000] {
        let before = blob_reads(&az);
        let mut run = az
            .command(&args, &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Once a run has committed, the next finds nothing new and reads no blob.
        let deadline = Instant::now() + Duration::from_secs(60);
        while blob_reads(&az) <= before && run.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "acrlens read no blob");
            thread::sleep(Duration::from_millis(5));
        }
        thread::sleep(Duration::from_millis(delay));
        // It may have finished already; killing it then changes nothing.
        let _ = run.kill();
        run.wait().unwrap();
    }
    assert_exit(&az.acrlens(&args), 0);
    let out = az.acrlens(&[
        "query",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT count(*) AS n, count(DISTINCT correlation_id) AS d FROM events",
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), format!("n,d\n{records},{records}\n"));
}
