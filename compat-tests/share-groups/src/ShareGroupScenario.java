// Share groups (KIP-932) with the Java client's KafkaShareConsumer against kbroker.
// Each feature reports "RESULT <feature>\tpass|fail\t<detail>" (compat-tests/lib/judge.mjs).
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;

public class ShareGroupScenario {
  static String bootstrap;
  /** A suffix so that a rerun against the same broker starts afresh. */
  static final String RUN = "-" + Long.toString(System.nanoTime() % 100000, 36);

  static void result(String feature, boolean ok, String detail) throws Exception {
    String line = feature + "\t" + (ok ? "pass" : "fail") + "\t" + detail.replace('\t', ' ').replace('\n', ' ');
    System.out.println("RESULT " + line);
    String file = System.getenv("COMPAT_RESULTS");
    if (file != null) java.nio.file.Files.writeString(java.nio.file.Path.of(file), line + "\n",
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  static KafkaShareConsumer<String, String> consumer(String group, String clientId, String mode) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("client.id", clientId);
    p.put("share.acknowledgement.mode", mode);
    p.put("max.poll.records", "20");
    return new KafkaShareConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }

  static void produce(String topic, int from, int n) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("linger.ms", "5");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int i = from; i < from + n; i++) producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i));
      producer.flush();
    }
  }

  static void createTopic(Admin admin, String topic) throws Exception {
    try {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      // Already made by --place (the cluster scenario picks its topic first).
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) throw e;
    }
  }

  /**
   * Cluster mode: creates topics PREFIX-0, PREFIX-1, ... until one's partition 0 is led by another
   * broker than the share coordinator of GROUP:topicId:0 (the leader of its __share_group_state
   * partition, Kafka's abs(hashCode(key)) % partitions), and prints "PLACED topic coordinator leader".
   */
  static void place(String prefix, String group) throws Exception {
    Properties ap = new Properties();
    ap.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(ap)) {
      for (int i = 0; i < 20; i++) {
        String topic = prefix + "-" + i;
        createTopic(admin, topic);
        TopicDescription t = describe(admin, topic);
        // A first fetch of the group makes the leader find its share coordinator: the state topic.
        try (KafkaShareConsumer<String, String> c = consumer(group + "-probe", "probe", "explicit")) {
          c.subscribe(List.of(topic));
          long end = System.currentTimeMillis() + 20_000;
          while (System.currentTimeMillis() < end && !admin.listTopics(new ListTopicsOptions().listInternal(true))
              .names().get().contains("__share_group_state")) c.poll(Duration.ofMillis(200));
        }
        TopicDescription state = describe(admin, "__share_group_state");
        String key = group + ":" + t.topicId() + ":0";
        int h = key.hashCode();
        int p = (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % state.partitions().size();
        int coordinator = state.partitions().get(p).leader().id();
        int leader = t.partitions().get(0).leader().id();
        if (coordinator != leader) {
          System.out.println("PLACED " + topic + " " + coordinator + " " + leader);
          return;
        }
      }
      throw new IllegalStateException("no topic led apart from its share coordinator");
    }
  }

  static TopicDescription describe(Admin admin, String topic) throws Exception {
    long end = System.currentTimeMillis() + 20_000;
    for (;;) {
      try {
        TopicDescription t = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
        if (t.partitions().stream().allMatch(x -> x.leader() != null && !x.leader().isEmpty())) return t;
      } catch (ExecutionException e) {
        if (System.currentTimeMillis() > end) throw e;
      }
      if (System.currentTimeMillis() > end) throw new IllegalStateException(topic + " has no leaders");
      Thread.sleep(200);
    }
  }

  /** Polls until the consumer has an assignment and has fetched once (its share-partition initialized). */
  static void warmUp(List<KafkaShareConsumer<String, String>> cs, Duration d) {
    long end = System.currentTimeMillis() + d.toMillis();
    while (System.currentTimeMillis() < end) for (KafkaShareConsumer<String, String> c : cs) c.poll(Duration.ofMillis(100));
  }

  /** Three consumers share one partition: every record delivered and acknowledged exactly once. */
  static void threeConsumers(Admin admin) throws Exception {
    String topic = "share-three" + RUN, group = "sg-three" + RUN;
    createTopic(admin, topic);
    int n = 600;
    ConcurrentHashMap<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> perConsumer = new ConcurrentHashMap<>();
    AtomicBoolean produced = new AtomicBoolean(false);
    AtomicBoolean stop = new AtomicBoolean(false);
    CountDownLatch warm = new CountDownLatch(3);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<Future<?>> fs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String id = "c" + i;
      perConsumer.put(id, new AtomicInteger());
      fs.add(pool.submit(() -> {
        try (KafkaShareConsumer<String, String> c = consumer(group, id, "explicit")) {
          c.subscribe(List.of(topic));
          long warmEnd = System.currentTimeMillis() + 4000;
          while (System.currentTimeMillis() < warmEnd) c.poll(Duration.ofMillis(200));
          warm.countDown();
          while (!stop.get()) {
            ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(200));
            for (ConsumerRecord<String, String> r : rs) {
              seen.computeIfAbsent(r.value(), k -> new AtomicInteger()).incrementAndGet();
              perConsumer.get(id).incrementAndGet();
              c.acknowledge(r, AcknowledgeType.ACCEPT);
              Thread.sleep(2); // work, so the three interleave on the one partition
            }
            if (!rs.isEmpty()) c.commitSync();
          }
        }
        return null;
      }));
    }
    warm.await(60, TimeUnit.SECONDS);
    produce(topic, 0, n);
    long end = System.currentTimeMillis() + 60_000;
    while (seen.size() < n && System.currentTimeMillis() < end) Thread.sleep(100);
    Thread.sleep(2000); // anything delivered twice would show up now
    stop.set(true);
    for (Future<?> f : fs) f.get(60, TimeUnit.SECONDS);
    pool.shutdown();
    long dup = seen.values().stream().filter(a -> a.get() > 1).count();
    long busy = perConsumer.values().stream().filter(a -> a.get() > 0).count();
    boolean ok = seen.size() == n && dup == 0 && busy >= 2;
    result("share-three-consumers", ok, "distinct=" + seen.size() + "/" + n + " duplicates=" + dup + " perConsumer=" + perConsumer);
  }

  /**
   * The victim, run as its own JVM: takes a batch, accepts the first half, commits that, prints
   * the values it still holds ("HELD v"), then waits to be killed (kill -9 by the parent).
   */
  static void victim(String topic, String group) throws Exception {
    KafkaShareConsumer<String, String> a = consumer(group, "victim", "explicit");
    a.subscribe(List.of(topic));
    long end = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < end) {
      ConsumerRecords<String, String> rs = a.poll(Duration.ofMillis(500));
      if (rs.isEmpty()) {
        System.out.println("POLLED");
        System.out.flush();
        continue;
      }
      int i = 0;
      List<String> held = new ArrayList<>();
      List<String> accepted = new ArrayList<>();
      for (ConsumerRecord<String, String> r : rs) {
        if (i++ < rs.count() / 2) {
          a.acknowledge(r, AcknowledgeType.ACCEPT);
          accepted.add(r.value());
        } else held.add(r.value());
      }
      a.commitSync();
      for (String v : held) System.out.println("HELD " + v);
      // The poll may have returned fewer than the 10 produced: the others were never delivered.
      for (String v : accepted) System.out.println("ACCEPTED " + v);
      System.out.println("READY");
      System.out.flush();
      Thread.sleep(600_000);
    }
  }

  /**
   * A consumer process takes records, accepts half of its batch and is killed (SIGKILL) holding
   * the rest: once the acquisition lock expires another consumer gets exactly the held records,
   * delivered a second time.
   */
  static void redelivery(Admin admin) throws Exception {
    String topic = "share-redeliver" + RUN, group = "sg-redeliver" + RUN;
    createTopic(admin, topic);
    ProcessBuilder pb = new ProcessBuilder(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
        "ShareGroupScenario", "--victim", bootstrap, topic, group);
    pb.redirectErrorStream(true);
    Process victim = pb.start();
    java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(victim.getInputStream()));
    Set<String> held = new HashSet<>();
    boolean produced = false;
    int polls = 0;
    for (String line; (line = out.readLine()) != null; ) {
      if (line.equals("POLLED") && !produced && ++polls >= 4) {
        produce(topic, 0, 10); // the victim's share-partition is initialized (latest) by now
        produced = true;
      }
      if (line.startsWith("HELD ")) held.add(line.substring(5));
      if (line.equals("READY")) break;
    }
    victim.destroyForcibly().waitFor(); // SIGKILL: no leave, no release, no close
    long t0 = System.currentTimeMillis();
    Map<String, Short> redelivered = new HashMap<>();
    try (KafkaShareConsumer<String, String> b = consumer(group, "rescuer", "explicit")) {
      b.subscribe(List.of(topic));
      long end = System.currentTimeMillis() + 90_000;
      while (!(redelivered.keySet().containsAll(held) && !held.isEmpty()) && System.currentTimeMillis() < end) {
        for (ConsumerRecord<String, String> r : b.poll(Duration.ofMillis(500))) {
          redelivered.put(r.value(), r.deliveryCount().orElse((short) -1));
          b.acknowledge(r, AcknowledgeType.ACCEPT);
        }
        b.commitSync();
      }
      // Nothing else comes: the accepted half stays accepted.
      for (int i = 0; i < 4; i++) for (ConsumerRecord<String, String> r : b.poll(Duration.ofMillis(500))) {
        redelivered.put(r.value(), (short) -9);
        b.acknowledge(r, AcknowledgeType.ACCEPT);
      }
    }
    long waited = System.currentTimeMillis() - t0;
    boolean ok = !held.isEmpty() && redelivered.keySet().equals(held)
        && held.stream().allMatch(v -> redelivered.get(v) == 2);
    result("share-redelivery-after-lock", ok, "held=" + held + " redelivered=" + redelivered + " waitedMs=" + waited);
  }

  /**
   * Before a broker restart: creates the topic, takes a batch, accepts its first half (written to
   * __share_group_state before the commit returns) and prints "HELD v" for the rest, "READY",
   * then waits to be killed together with the broker.
   */
  static void hold(String topic, String group) throws Exception {
    Properties ap = new Properties();
    ap.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(ap)) {
      createTopic(admin, topic);
    }
    KafkaShareConsumer<String, String> a = consumer(group, "holder", "explicit");
    a.subscribe(List.of(topic));
    warmUp(List.of(a), Duration.ofSeconds(4));
    produce(topic, 0, 10);
    long end = System.currentTimeMillis() + 30_000;
    while (System.currentTimeMillis() < end) {
      ConsumerRecords<String, String> rs = a.poll(Duration.ofMillis(500));
      if (rs.isEmpty()) continue;
      int i = 0;
      List<String> held = new ArrayList<>();
      List<String> accepted = new ArrayList<>();
      for (ConsumerRecord<String, String> r : rs) {
        if (i++ < rs.count() / 2) {
          a.acknowledge(r, AcknowledgeType.ACCEPT);
          accepted.add(r.value());
        } else held.add(r.value());
      }
      a.commitSync();
      for (String v : held) System.out.println("HELD " + v);
      // The poll may have returned fewer than the 10 produced: the others were never delivered.
      for (String v : accepted) System.out.println("ACCEPTED " + v);
      System.out.println("READY");
      System.out.flush();
      Thread.sleep(600_000);
    }
  }

  /**
   * After the broker restarted (kill -9) on the same data: the records held when it died come
   * back (acquired becomes available again, delivery count 2), the accepted ones never.
   */
  static void rescue(String topic, String group, Set<String> held, Set<String> accepted) throws Exception {
    Map<String, Short> got = new HashMap<>();
    try (KafkaShareConsumer<String, String> b = consumer(group, "after-restart", "explicit")) {
      b.subscribe(List.of(topic));
      long end = System.currentTimeMillis() + 60_000;
      while (!got.keySet().containsAll(held) && System.currentTimeMillis() < end) {
        for (ConsumerRecord<String, String> r : b.poll(Duration.ofMillis(500))) {
          got.put(r.value(), r.deliveryCount().orElse((short) -1));
          b.acknowledge(r, AcknowledgeType.ACCEPT);
        }
        b.commitSync();
      }
      for (int i = 0; i < 4; i++) for (ConsumerRecord<String, String> r : b.poll(Duration.ofMillis(500))) {
        got.put(r.value(), (short) -9);
        b.acknowledge(r, AcknowledgeType.ACCEPT);
      }
    }
    // Held records come back with delivery count 2, accepted ones never; records the holder's poll
    // did not return are delivered for the first time; together they are the 10 produced.
    Set<String> all = new HashSet<>(got.keySet());
    all.addAll(accepted);
    boolean ok = !held.isEmpty()
        && held.stream().allMatch(v -> got.containsKey(v) && got.get(v) == 2)
        && accepted.stream().noneMatch(got::containsKey)
        && got.entrySet().stream().allMatch(e -> held.contains(e.getKey()) || e.getValue() == 1)
        && all.size() == 10;
    result(System.getProperty("feature", "share-restart-keeps-state"), ok, "held=" + held + " accepted=" + accepted + " afterRestart=" + got);
  }

  /** Release and reject: a released record comes back (delivery count 2), a rejected one never. */
  static void releaseReject(Admin admin) throws Exception {
    String topic = "share-release" + RUN, group = "sg-release" + RUN;
    createTopic(admin, topic);
    try (KafkaShareConsumer<String, String> c = consumer(group, "rr", "explicit")) {
      c.subscribe(List.of(topic));
      warmUp(List.of(c), Duration.ofSeconds(4));
      produce(topic, 0, 2);
      Map<String, List<Short>> deliveries = new HashMap<>();
      long end = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < end) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(300))) {
          List<Short> l = deliveries.computeIfAbsent(r.value(), k -> new ArrayList<>());
          l.add(r.deliveryCount().orElse((short) -1));
          if (r.value().equals("v0")) c.acknowledge(r, AcknowledgeType.REJECT);
          else c.acknowledge(r, l.size() == 1 ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT);
        }
        c.commitSync();
        if (deliveries.getOrDefault("v1", List.of()).size() >= 2) break;
      }
      // Nothing more arrives: v0 rejected, v1 accepted on its second delivery.
      for (int i = 0; i < 5; i++) for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(300)))
        deliveries.computeIfAbsent(r.value(), k -> new ArrayList<>()).add((short) -9);
      boolean ok = deliveries.getOrDefault("v0", List.of()).equals(List.of((short) 1))
          && deliveries.getOrDefault("v1", List.of()).equals(List.of((short) 1, (short) 2));
      result("share-release-reject", ok, "deliveries=" + deliveries);
    }
  }

  /** Admin: describeShareGroups shows the members and their assignment; listGroups has it as type share. */
  static void describe(Admin admin) throws Exception {
    String topic = "share-describe" + RUN, group = "sg-describe" + RUN;
    createTopic(admin, topic);
    try (KafkaShareConsumer<String, String> c1 = consumer(group, "d1", "implicit");
         KafkaShareConsumer<String, String> c2 = consumer(group, "d2", "implicit")) {
      c1.subscribe(List.of(topic));
      c2.subscribe(List.of(topic));
      warmUp(List.of(c1, c2), Duration.ofSeconds(4));
      ShareGroupDescription d = admin.describeShareGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
      boolean both = d.members().size() == 2 && d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 1);
      boolean listed = admin.listGroups(ListGroupsOptions.forShareGroups()).all().get(30, TimeUnit.SECONDS).stream()
          .anyMatch(g -> g.groupId().equals(group));
      result("share-describe", both && listed && d.groupState().toString().equalsIgnoreCase("stable"),
          "state=" + d.groupState() + " members=" + d.members().size() + " listed=" + listed);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--victim")) {
      bootstrap = args[1];
      victim(args[2], args[3]);
      return;
    }
    if (args.length > 0 && args[0].equals("--place")) {
      bootstrap = args[1];
      place(args[2], args[3]);
      System.exit(0);
    }
    if (args.length > 0 && args[0].equals("--hold")) {
      bootstrap = args[1];
      hold(args[2], args[3]);
      return;
    }
    if (args.length > 0 && args[0].equals("--rescue")) {
      bootstrap = args[1];
      List<String> rest = Arrays.asList(args).subList(4, args.length);
      int sep = rest.indexOf("--accepted");
      Set<String> held = new HashSet<>(sep < 0 ? rest : rest.subList(0, sep));
      Set<String> accepted = new HashSet<>(sep < 0 ? List.of() : rest.subList(sep + 1, rest.size()));
      rescue(args[2], args[3], held, accepted);
      System.exit(0);
    }
    bootstrap = args[0];
    Set<String> only = new HashSet<>(Arrays.asList(args).subList(1, args.length));
    Properties ap = new Properties();
    ap.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(ap)) {
      Map<String, ThrowingRunnable> features = new LinkedHashMap<>();
      features.put("share-three-consumers", () -> threeConsumers(admin));
      features.put("share-redelivery-after-lock", () -> redelivery(admin));
      features.put("share-release-reject", () -> releaseReject(admin));
      features.put("share-describe", () -> describe(admin));
      for (Map.Entry<String, ThrowingRunnable> f : features.entrySet()) {
        if (!only.isEmpty() && !only.contains(f.getKey())) continue;
        try {
          f.getValue().run();
        } catch (Throwable t) {
          t.printStackTrace();
          result(f.getKey(), false, t.toString());
        }
      }
    }
    System.exit(0);
  }

  interface ThrowingRunnable { void run() throws Exception; }
}
