/*
 * The Java client (kafka-clients) across a leader change of a 3-broker kbroker process.
 *
 * usage: java FailoverScenario BOOTSTRAP TOPIC SECONDS
 *
 * Creates TOPIC (3 partitions, replication factor 3, min.insync.replicas=2), then for SECONDS sends
 * numbered records "<partition>-<n>" with an idempotent producer (acks=all) while a consumer group
 * reads them; run.sh kills the leader of partition 0 meanwhile and starts it again. Then: the group
 * has consumed every acknowledged record, and a second group reading the topic from the beginning
 * finds every acknowledged record exactly once, no record twice, and each partition's
 * acknowledged records in the order they were sent. Prints one summary line; exit 0 when all holds.
 */
import java.time.Duration;
import java.util.*;
import java.util.concurrent.*;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.serialization.*;

public class FailoverScenario {
  static final int PARTITIONS = 3;
  static String bootstrap;
  static String topic;

  @SuppressWarnings("unchecked")
  static List<String>[] lists() {
    List<String>[] l = new List[PARTITIONS];
    for (int i = 0; i < PARTITIONS; i++) l[i] = Collections.synchronizedList(new ArrayList<>());
    return l;
  }

  /** Values a group member reads from the beginning, per partition, until stop and want hold. */
  static List<String>[] consume(String group, Predicate<List<String>[]> want, java.util.function.BooleanSupplier stop, long deadlineMs) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "500");
    List<String>[] got = lists();
    long end = System.currentTimeMillis() + deadlineMs;
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      while (System.currentTimeMillis() < end && !(stop.getAsBoolean() && want.test(got))) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) got[r.partition()].add(r.value());
      }
    }
    return got;
  }

  public static void main(String[] args) throws Exception {
    bootstrap = args[0];
    topic = args[1];
    double seconds = Double.parseDouble(args[2]);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 3).configs(Map.of("min.insync.replicas", "2"))))
          .all().get(30, TimeUnit.SECONDS);
    }
    List<String>[] acked = lists();
    List<String> failed = Collections.synchronizedList(new ArrayList<>());
    final boolean[] doneProducing = {false};
    Predicate<List<String>[]> covers = got -> {
      Set<String> seen = new HashSet<>();
      for (List<String> l : got) synchronized (l) { seen.addAll(l); }
      for (List<String> l : acked) synchronized (l) { if (!seen.containsAll(l)) return false; }
      return true;
    };
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<List<String>[]> group = pool.submit(() ->
        consume(topic + "-group", covers, () -> doneProducing[0], (long) (seconds * 1000) + 120_000));

    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.ACKS_CONFIG, "all");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    int n = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
      long end = System.currentTimeMillis() + (long) (seconds * 1000);
      while (System.currentTimeMillis() < end) {
        for (int i = 0; i < 10; i++, n++) {
          int part = n % PARTITIONS;
          String value = part + "-" + (n / PARTITIONS);
          producer.send(new ProducerRecord<>(topic, part, null, value), (md, err) -> {
            if (err == null) acked[md.partition()].add(value);
            else failed.add(err.toString());
          });
        }
        Thread.sleep(20);
      }
      producer.flush();
    }
    doneProducing[0] = true;
    List<String>[] groupGot = group.get();
    pool.shutdown();

    int total = 0;
    for (List<String> l : acked) total += l.size();
    final int want = total;
    Set<String> groupSeen = new HashSet<>();
    for (List<String> l : groupGot) groupSeen.addAll(l);
    List<String> problems = new ArrayList<>();
    int missingInGroup = 0;
    for (List<String> l : acked) for (String v : l) if (!groupSeen.contains(v)) missingInGroup++;
    if (missingInGroup > 0) problems.add("group: " + missingInGroup + " acknowledged never consumed");

    List<String>[] check = consume(topic + "-verify", got -> {
      int s = 0;
      for (List<String> l : got) s += l.size();
      return s >= want;
    }, () -> true, 60_000);
    int verifyRead = 0;
    for (int part = 0; part < PARTITIONS; part++) {
      List<String> read = check[part];
      verifyRead += read.size();
      Map<String, Integer> counts = new HashMap<>();
      for (String v : read) counts.merge(v, 1, Integer::sum);
      long twice = counts.values().stream().filter(c -> c > 1).count();
      List<String> lost = new ArrayList<>();
      for (String v : acked[part]) if (!counts.containsKey(v)) lost.add(v);
      Set<String> ackset = new HashSet<>(acked[part]);
      LinkedHashSet<String> first = new LinkedHashSet<>();
      for (String v : read) if (ackset.contains(v)) first.add(v);
      List<String> expected = new ArrayList<>();
      for (String v : acked[part]) if (counts.containsKey(v)) expected.add(v);
      if (!lost.isEmpty()) problems.add("p" + part + ": " + lost.size() + " acknowledged missing " + lost.subList(0, Math.min(5, lost.size())));
      if (twice > 0) problems.add("p" + part + ": " + twice + " records twice");
      if (!new ArrayList<>(first).equals(expected)) problems.add("p" + part + ": acknowledged records out of order");
    }
    if (!failed.isEmpty()) problems.add(failed.size() + " failed sends " + failed.subList(0, Math.min(3, failed.size())));
    System.out.println("java: sent " + n + ", acknowledged " + total + ", group consumed " + groupSeen.size()
        + " distinct, verify read " + verifyRead + "; " + (problems.isEmpty() ? "OK" : String.join("; ", problems)));
    System.exit(problems.isEmpty() && total > 0 ? 0 : 1);
  }
}
