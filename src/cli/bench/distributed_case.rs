//! `throughput/distributed`: the throughput workload across a process boundary. The bench starts
//! one `pipeline worker` of its own (this binary, on 127.0.0.1, with a token made for the bench),
//! pins the middle node of `simple` to it and runs the manifest through the library API
//! (`distributed::connect`, `Cluster::run`, `run_process`) with values in memory: the input
//! crosses to the worker and the outputs come back, in batches of `batch_items`. Each batch size
//! gets a fresh worker, so the worker's peak RSS (it reports it with its `Done`) is that case's.

use pipeline::distributed::{
    connect, run_process, Assignment, ClusterOptions, HostsFile, Job, ManifestJob, Role, Secret,
};
use pipeline::dynamic::Registry;
use pipeline::workloads::SIMPLE_MANIFEST;
use pipeline::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the worker may take to say where it listens.
const WORKER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A `pipeline worker` started for the bench, killed when dropped.
pub struct BenchWorker {
    child: Child,
    address: String,
    secret: Secret,
}

impl BenchWorker {
    /// Starts this binary as `pipeline worker --listen 127.0.0.1:0` with a fresh random token
    /// (in `PIPELINE_TOKEN`, so no token file is read or written).
    pub fn start() -> Result<BenchWorker, String> {
        let token = fresh_token()?;
        let secret = Secret::from_text(&token).map_err(|err| err.to_string())?;
        let exe =
            std::env::current_exe().map_err(|err| format!("no path to this binary: {err}"))?;
        let mut child = Command::new(exe)
            .args(["worker", "--listen", "127.0.0.1:0"])
            .env(pipeline::distributed::TOKEN_ENV, &token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start `pipeline worker`: {err}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = sender.send(first);
        });
        let mut worker = BenchWorker {
            child,
            address: String::new(),
            secret,
        };
        let line = lines
            .recv_timeout(WORKER_START_TIMEOUT)
            .map_err(|_| "the bench's worker did not say where it listens within 30 s")?;
        worker.address = line
            .trim_end()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("the bench's worker said {line:?}, not `listening on ...`"))?
            .to_string();
        Ok(worker)
    }

    /// One run of `simple` over `0..items` with `calc_1` on the worker, `batch_items` items per
    /// batch between the processes; returns the sum of the outputs and the worker's peak RSS
    /// (since it started) as it reported it.
    pub fn run_simple(
        &self,
        registry: &Registry,
        items: i64,
        batch_items: usize,
    ) -> pipeline::Result<(i64, Option<u64>)> {
        let hosts = HostsFile::from_addresses([&self.address])?;
        let cluster = connect(&hosts, &self.secret, &ClusterOptions::default())?;
        // pass_0 and pass_2 here, calc_1 on the worker (process 1).
        let assignment = Assignment::new(2, vec![0, 1, 0]);
        let mut job = ManifestJob::new("simple.json", SIMPLE_MANIFEST.to_string(), assignment);
        job.batch_items = batch_items;
        let options = job.dataflow_options(false);
        let lowered = pipeline::manifest::load("simple.json", SIMPLE_MANIFEST, registry)
            .map_err(|err| pipeline::Error::new(pipeline::ErrorKind::Graph, err))?;
        let assignment = job.assignment.clone();
        let mut sum = 0_i64;
        let run = cluster.run_with_summaries(&Job::Manifest(Box::new(job)), |worker| {
            let mut input = (0..items).map(|x| Ok(Value::Int(x)));
            let mut sink = |_output: usize, value: Value| {
                sum += value.as_int().unwrap_or(i64::MIN);
                Ok(())
            };
            let role = Role::Local {
                input: &mut input,
                sink: &mut sink,
            };
            run_process(worker, lowered, &assignment, role, &options)
        })?;
        Ok((sum, run.workers.first().and_then(|w| w.peak_rss_bytes)))
    }
}

impl Drop for BenchWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 32 random bytes from the system, as hex: the bench's own token.
fn fresh_token() -> Result<String, String> {
    let mut bytes = [0_u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .map_err(|err| format!("no randomness for the bench's token (/dev/urandom): {err}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
