package io.idemnet.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.experiments.CompareOutputs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.Success$;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Spark standalone cluster started by the test on this machine: a master and two workers (one
 * core each), each its own JVM, all bound to 127.0.0.1. One worker is killed (SIGKILL, with the
 * executor it started) while it runs a task; the sweep must still end with every run saved once,
 * with compare's numbers.
 */
@Tag("spark")
class StandaloneClusterTest {
  private static final Duration START_LIMIT = Duration.ofMinutes(3);
  private static final Duration SWEEP_LIMIT = Duration.ofMinutes(5);

  /** Counts running tasks per executor and keeps the reasons of tasks that did not succeed. */
  static final class TaskWatch extends SparkListener {
    final Map<String, Integer> running = new ConcurrentHashMap<>();
    final List<String> unsuccessful = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onTaskStart(SparkListenerTaskStart start) {
      running.merge(start.taskInfo().executorId(), 1, Integer::sum);
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      running.merge(end.taskInfo().executorId(), -1, Integer::sum);
      if (end.reason() != Success$.MODULE$) unsuccessful.add("executor " + end.taskInfo().executorId() + ": " + end.reason());
    }

    boolean busy(String executor) {
      return running.getOrDefault(executor, 0) > 0;
    }
  }

  /**
   * The id of the executor a worker started (its child JVM's --executor-id), if it has one yet.
   * Read from /proc: ProcessHandle.Info gives no arguments for a command line this long.
   */
  private static String executorOf(Process worker) {
    for (ProcessHandle h : worker.descendants().toList()) {
      String[] args;
      try {
        args = new String(Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline")),
            java.nio.charset.StandardCharsets.UTF_8).split("\0");
      } catch (IOException e) {
        continue; // ended meanwhile
      }
      for (int i = 0; i + 1 < args.length; i++) if (args[i].equals("--executor-id")) return args[i + 1];
    }
    return null;
  }

  @Test
  void aWorkerKilledMidSweepLosesNoRunAndDuplicatesNone(@TempDir Path dir) throws Exception {
    // 6 runs; the first task on each fresh executor takes seconds (class loading, JIT), so both are busy at once.
    SweepGroup g = SweepTestSupport.group(dir.resolve("out"), new float[] {0.05f, 0.5f}, 3, 100, 10, false);
    long t0 = System.nanoTime();
    Path results = dir.resolve("out").resolve("results");
    List<Process> daemons = new ArrayList<>();
    try {
      Path home = dir.resolve("spark-home");
      Files.createDirectories(home.resolve("jars")); // the workers' SPARK_HOME: executors get their classes from extraClassPath
      int masterPort = freePort();
      Process master = start(dir, home, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
          Integer.toString(masterPort), "--webui-port", Integer.toString(freePort()));
      daemons.add(master);
      assertTrue(SweepTestSupport.await(START_LIMIT, () -> accepts(masterPort) || !master.isAlive()) && master.isAlive(),
          "master listening on 127.0.0.1:" + masterPort + "\n" + logs(dir));
      phase(t0, "master up");
      String masterUrl = "spark://127.0.0.1:" + masterPort;
      for (int w = 0; w < 2; w++) {
        Path work = Files.createDirectories(dir.resolve("work-" + w));
        daemons.add(start(dir, home, "worker-" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port",
            Integer.toString(freePort()), "--webui-port", Integer.toString(freePort()), "--cores", "1", "--memory", "1g",
            "--work-dir", work.toString(), masterUrl));
      }

      SparkConf conf = new SparkConf().setMaster(masterUrl).setAppName("idemnet sweep cluster test")
          .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false")
          .set("spark.executor.memory", "512m").set("spark.executor.cores", "1")
          .set("spark.executor.extraClassPath", SweepTestSupport.testClassPath())
          .set("spark.executor.extraJavaOptions", "--enable-native-access=ALL-UNNAMED -Xss4m")
          .set("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1");
      TaskWatch watch = new TaskWatch();
      AtomicReference<Integer> victim = new AtomicReference<>();
      String[] executors = new String[2];
      List<String> log = Collections.synchronizedList(new ArrayList<>());
      AtomicReference<Object> outcome = new AtomicReference<>();
      try (JavaSparkContext sc = new JavaSparkContext(conf)) {
        sc.sc().addSparkListener(watch);
        // The driver counts itself among the executors: 3 = driver + one per worker.
        assertTrue(SweepTestSupport.await(START_LIMIT, () -> sc.statusTracker().getExecutorInfos().length >= 3),
            "two executors registered\n" + logs(dir));
        phase(t0, "two executors registered");
        Thread sweep = new Thread(() -> {
          try {
            outcome.set(SparkSweep.run(sc, g.pairs(), results, log::add, PairRunner.COMPARE));
          } catch (Throwable e) {
            outcome.set(e);
          }
        }, "sweep driver");
        sweep.start();
        // Kill the first worker seen with its executor inside a task (worker 1 is daemons.get(2)).
        executors[0] = executorOf(daemons.get(1));
        executors[1] = executorOf(daemons.get(2));
        assertTrue(executors[0] != null && executors[1] != null, "each worker started an executor: " + java.util.Arrays.toString(executors));
        assertTrue(SweepTestSupport.await(START_LIMIT, () -> {
          for (int w = 0; w < 2; w++) if (watch.busy(executors[w])) victim.compareAndSet(null, w);
          return victim.get() != null || !sweep.isAlive();
        }) && victim.get() != null, "an executor running a task: " + watch.running + " " + log + "\n" + logs(dir));
        int w = victim.get();
        SweepTestSupport.killTree(daemons.get(1 + w));
        phase(t0, "worker " + w + " and its executor " + executors[w] + " killed while it ran a task: " + watch.running);
        sweep.join(SWEEP_LIMIT.toMillis());
        assertFalse(sweep.isAlive(), "sweep finished within " + SWEEP_LIMIT + ": " + log);
        phase(t0, "sweep finished");
      }
      if (outcome.get() instanceof Throwable t) throw new AssertionError("sweep failed: " + log + "\n" + logs(dir), t);
      SparkSweep.Outcome o = (SparkSweep.Outcome) outcome.get();
      assertNotNull(o);

      // The kill hit a running task, and Spark ran it again elsewhere.
      String lostExecutor = "executor " + executors[victim.get()] + ": ";
      assertTrue(watch.unsuccessful.stream().anyMatch(u -> u.startsWith(lostExecutor)),
          "a task was lost with the killed executor: " + watch.unsuccessful + " " + log);
      assertEquals(6, o.computed(), log.toString());
      assertTrue(o.failures().isEmpty(), o.failures().toString());
      // Each run reported once (the driver writes a file per report), saved once, under its own name.
      for (SweepRun r : g.pairs()) {
        long reports = log.stream().filter(l -> l.contains("[" + r.label() + ":")).count();
        assertEquals(1, reports, r.label() + " in " + log);
      }
      try (Stream<Path> files = Files.list(results)) {
        assertEquals(6, files.count(), "6 result files and nothing else");
      }
      List<SweepPair> saved = SweepTestSupport.savedPairs(results, g);
      List<io.idemnet.experiments.CompareResult.RunResult[]> reference = SweepTestSupport.compareReference(g, null);
      for (int i = 0; i < saved.size(); i++) SweepTestSupport.assertSamePair(reference.get(i), saved.get(i), g.pairs().get(i).label());
      List<io.idemnet.experiments.CompareResult.RunResult[]> pairs = new ArrayList<>();
      for (SweepPair p : SparkSweep.load(results, g.pairs())) pairs.add(new io.idemnet.experiments.CompareResult.RunResult[] {p.mb(), p.ob()});
      try (io.idemnet.backend.Backend cpu = new io.idemnet.backend.cpu.CpuBackend()) {
        CompareOutputs.writeAll(cpu, g.config(), pairs, false);
      }
      Map<String, Integer> rows = SweepTestSupport.finalRowCounts(dir.resolve("out").resolve("final.csv"));
      assertEquals(12, rows.size(), rows.toString());
      assertTrue(rows.values().stream().allMatch(c -> c == 1), rows.toString());
      phase(t0, "checked against compare");
    } finally {
      for (Process p : daemons) SweepTestSupport.killTree(p);
    }
  }

  /** Where the test's time goes (on stderr; starting JVMs dominates on a loaded machine). */
  private static void phase(long t0, String what) {
    System.err.printf(java.util.Locale.ROOT, "cluster test: %s after %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
  }

  /** A daemon JVM on loopback only, with its output in dir/NAME.log (Spark's INFO log, for failures). */
  private static Process start(Path dir, Path sparkHome, String name, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(SweepTestSupport.javaCommand(mainClass, "-Xmx256m", args));
    cmd.removeIf(a -> a.startsWith("-Dlog4j2.configurationFile=")); // Spark's default: INFO, into the log file
    cmd.add(1, "-Dspark.master.rest.enabled=false"); // the REST submission server would take the fixed port 6066
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
    Map<String, String> env = pb.environment();
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.13");
    env.put("JAVA_HOME", System.getProperty("java.home"));
    return pb.start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The last lines of each daemon's log, for failure messages. */
  private static String logs(Path dir) {
    StringBuilder sb = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(p);
        sb.append("--- ").append(p.getFileName()).append('\n');
        lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> sb.append(l).append('\n'));
      }
    } catch (IOException e) {
      sb.append("(cannot read logs: ").append(e).append(')');
    }
    return sb.toString();
  }
}
