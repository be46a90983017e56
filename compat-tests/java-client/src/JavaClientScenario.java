import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java client (org.apache.kafka:kafka-clients, the version on the classpath) against kbroker.
 * Each feature runs with a deadline and reports one line to $COMPAT_RESULTS:
 * "feature<TAB>pass|fail<TAB>seconds<TAB>detail". Nothing is skipped: a feature whose broker
 * APIs are missing fails here, and compat-tests/matrix.json says whether that is expected.
 *
 * usage: java JavaClientScenario BOOTSTRAP [feature...]
 */
public class JavaClientScenario {
    static String bootstrap;
    static String version = System.getProperty("kafka.clients.version", "?");
    static String prefix; // topic/group prefix, unique per run
    static final int PARTITIONS = 3; // kbroker started with num.partitions=3 for auto-created topics

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        prefix = "jc" + version.replace(".", "") + "-" + Long.toString(System.currentTimeMillis() % 100000, 36);
        Set<String> only = new HashSet<>(Arrays.asList(args).subList(1, args.length));
        Map<String, Step> features = new java.util.LinkedHashMap<>();
        features.put("metadata", JavaClientScenario::metadata);
        features.put("produce", JavaClientScenario::produce);
        features.put("consume-assign", JavaClientScenario::consumeAssign);
        features.put("list-offsets", JavaClientScenario::listOffsets);
        features.put("compression", JavaClientScenario::compression);
        features.put("produce-idempotent", JavaClientScenario::produceIdempotent);
        features.put("admin-topics", JavaClientScenario::adminTopics);
        features.put("admin-configs", JavaClientScenario::adminConfigs);
        features.put("manual-commit", JavaClientScenario::manualCommit);
        features.put("consumer-group", JavaClientScenario::consumerGroup);
        features.put("admin-groups", JavaClientScenario::adminGroups);
        features.put("transactions", JavaClientScenario::transactions);
        features.put("delete-records", JavaClientScenario::deleteRecords);
        // KIP-848 (group.protocol=consumer) is generally available from kafka-clients 4.0.
        if (!version.startsWith("3.")) features.put("consumer-group-848", JavaClientScenario::consumerGroup848);
        // KIP-848's online migration: classic and consumer-protocol members in one group (4.0+).
        if (!version.startsWith("3.")) features.put("consumer-group-migration", JavaClientScenario::consumerGroupMigration);
        // Transactions V2 (KIP-890 part 2): kafka-clients 4.x use them when the broker finalizes transaction.version 2.
        if (!version.startsWith("3.")) features.put("transactions-v2", JavaClientScenario::transactionsV2);
        System.out.println("kafka-clients " + version + " -> " + bootstrap);
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        for (Map.Entry<String, Step> f : features.entrySet()) {
            if (!only.isEmpty() && !only.contains(f.getKey())) continue;
            long t0 = System.nanoTime();
            String result = "pass";
            String detail = "";
            Future<?> fut = pool.submit(() -> {
                f.getValue().run();
                return null;
            });
            try {
                fut.get(90, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                fut.cancel(true);
                result = "fail";
                detail = "timed out after 90 s";
            } catch (java.util.concurrent.ExecutionException e) {
                result = "fail";
                detail = describe(e.getCause());
            }
            long secs = Math.round((System.nanoTime() - t0) / 1e9);
            record(f.getKey(), result, secs, "kafka-clients " + version + ": " + detail);
        }
        System.exit(0);
    }

    interface Step {
        void run() throws Exception;
    }

    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        Throwable c = e;
        while (c != null) {
            if (sb.length() > 0) sb.append(" <- ");
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
            c = c.getCause() == c ? null : c.getCause();
        }
        StringWriter sw = new StringWriter();
        e.printStackTrace(new PrintWriter(sw));
        System.out.println(sw);
        return sb.toString().replace('\t', ' ').replace('\n', ' ');
    }

    static synchronized void record(String feature, String result, long secs, String detail) throws IOException {
        String line = feature + "\t" + result + "\t" + secs + "\t" + detail;
        System.out.println("RESULT " + line);
        String file = System.getenv("COMPAT_RESULTS");
        if (file != null) {
            try (FileWriter w = new FileWriter(file, StandardCharsets.UTF_8, true)) {
                w.write(line + "\n");
            }
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    // ---- clients -------------------------------------------------------------------------------

    static Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "15000");
        p.put("default.api.timeout.ms", "30000");
        return p;
    }

    static KafkaProducer<byte[], byte[]> producer(Map<String, Object> extra) {
        Properties p = common();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.putAll(extra);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static KafkaProducer<byte[], byte[]> plainProducer(Map<String, Object> extra) {
        Map<String, Object> m = new HashMap<>(extra);
        // InitProducerId is what idempotence needs; produce-idempotent covers the default.
        m.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        return producer(m);
    }

    static KafkaConsumer<byte[], byte[]> consumer(Map<String, Object> extra) {
        Properties p = common();
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.putAll(extra);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static Admin admin() {
        Properties p = common();
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(p);
    }

    // ---- data ----------------------------------------------------------------------------------

    /** One produced record as sent, with the partition/offset the broker gave it. */
    record Sent(int partition, long offset, String key, String value, String header, long timestamp) {}

    static byte[] b(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /** Sends n keyed records (some with null key or value, headers, explicit timestamps). */
    static List<Sent> produceRecords(KafkaProducer<byte[], byte[]> p, String topic, int n, String tag) throws Exception {
        List<Future<RecordMetadata>> futs = new ArrayList<>();
        List<ProducerRecord<byte[], byte[]>> recs = new ArrayList<>();
        long base = System.currentTimeMillis() - 60_000;
        for (int i = 0; i < n; i++) {
            String key = i % 17 == 3 ? null : "key-" + (i % 7);
            String value = i % 23 == 5 ? null : tag + "-value-" + i + "-" + "x".repeat(i % 50);
            Integer partition = key == null ? Integer.valueOf(i % PARTITIONS) : null;
            ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, partition, base + i, b(key), b(value),
                    List.<Header>of(new RecordHeader("h", b("hv-" + i))));
            recs.add(r);
            futs.add(p.send(r));
        }
        p.flush();
        List<Sent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RecordMetadata md = futs.get(i).get(30, TimeUnit.SECONDS);
            ProducerRecord<byte[], byte[]> r = recs.get(i);
            out.add(new Sent(md.partition(), md.offset(), s(r.key()), s(r.value()), "hv-" + i, r.timestamp()));
        }
        // The broker gave each partition consecutive offsets from 0, in send order.
        Map<Integer, List<Long>> byPart = new TreeMap<>();
        for (Sent x : out) byPart.computeIfAbsent(x.partition, k -> new ArrayList<>()).add(x.offset);
        for (Map.Entry<Integer, List<Long>> e : byPart.entrySet()) {
            List<Long> offs = e.getValue();
            for (int i = 1; i < offs.size(); i++)
                check(offs.get(i) == offs.get(i - 1) + 1, "offsets not consecutive in partition " + e.getKey() + ": " + offs);
        }
        return out;
    }

    /** Reads every record of the topic's partitions from the start with assign(), no group. */
    static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaConsumer<byte[], byte[]> c, String topic, int expected) {
        List<TopicPartition> tps = new ArrayList<>();
        for (PartitionInfo pi : c.partitionsFor(topic)) tps.add(new TopicPartition(topic, pi.partition()));
        c.assign(tps);
        c.seekToBeginning(tps);
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 30_000;
        while (got.size() < expected && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) got.add(r);
        }
        return got;
    }

    static void compare(List<Sent> sent, List<ConsumerRecord<byte[], byte[]>> got) {
        check(got.size() == sent.size(), "consumed " + got.size() + " records, produced " + sent.size());
        Map<String, Sent> byPos = new HashMap<>();
        for (Sent x : sent) byPos.put(x.partition + "@" + x.offset, x);
        Map<Integer, Long> lastOffset = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : got) {
            Sent x = byPos.get(r.partition() + "@" + r.offset());
            check(x != null, "unexpected record at " + r.partition() + "@" + r.offset());
            check(Objects.equals(x.key, s(r.key())), "key differs at " + r.partition() + "@" + r.offset());
            check(Objects.equals(x.value, s(r.value())), "value differs at " + r.partition() + "@" + r.offset());
            check(x.timestamp == r.timestamp(), "timestamp differs at " + r.partition() + "@" + r.offset());
            Header h = r.headers().lastHeader("h");
            check(h != null && x.header.equals(s(h.value())), "header differs at " + r.partition() + "@" + r.offset());
            Long prev = lastOffset.put(r.partition(), r.offset());
            check(prev == null || prev + 1 == r.offset(), "out of order in partition " + r.partition());
        }
    }

    // ---- features ------------------------------------------------------------------------------

    static void metadata() throws Exception {
        String topic = prefix + "-meta";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            p.send(new ProducerRecord<>(topic, b("k"), b("v"))).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
            List<PartitionInfo> parts = c.partitionsFor(topic);
            check(parts.size() == PARTITIONS, "partitionsFor gave " + parts.size() + " partitions");
            for (PartitionInfo pi : parts) check(pi.leader() != null && pi.leader().id() >= 0, "no leader for " + pi);
            check(c.listTopics().containsKey(topic), "listTopics lacks " + topic);
        }
        try (Admin a = admin()) {
            DescribeClusterResult dc = a.describeCluster();
            java.util.Collection<Node> nodes = dc.nodes().get(30, TimeUnit.SECONDS);
            check(nodes.size() == 1, "describeCluster nodes: " + nodes);
            check(dc.controller().get(30, TimeUnit.SECONDS) != null, "no controller");
            check(dc.clusterId().get(30, TimeUnit.SECONDS) != null, "no cluster id");
            check(a.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic), "Admin listTopics lacks " + topic);
        }
    }

    static List<Sent> produced; // by produce, read back by consume-assign and list-offsets

    static void produce() throws Exception {
        String topic = prefix + "-plain";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            produced = produceRecords(p, topic, 600, "plain");
        }
        check(produced.stream().map(Sent::partition).distinct().count() == PARTITIONS, "not all partitions used");
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
            compare(produced, readAll(c, topic, produced.size()));
        }
    }

    static void consumeAssign() throws Exception {
        check(produced != null, "produce did not run");
        String topic = prefix + "-plain";
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7",
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "2000", ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "1000"))) {
            // Small fetches: many round trips, partial batches.
            compare(produced, readAll(c, topic, produced.size()));
            // seek into the middle of partition 0 and read to its end.
            TopicPartition tp0 = new TopicPartition(topic, 0);
            List<Sent> p0 = produced.stream().filter(x -> x.partition == 0).collect(Collectors.toList());
            long mid = p0.size() / 2;
            c.assign(List.of(tp0));
            c.seek(tp0, mid);
            List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.size() < p0.size() - mid && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(300))) got.add(r);
            check(got.size() == p0.size() - mid, "after seek(" + mid + ") got " + got.size() + " of " + (p0.size() - mid));
            check(got.get(0).offset() == mid, "first offset after seek is " + got.get(0).offset());
            check(c.position(tp0) == p0.size(), "position " + c.position(tp0) + " != end " + p0.size());
            // Nothing more: a poll at the end returns nothing.
            check(c.poll(Duration.ofMillis(500)).isEmpty(), "records past the end");
        }
    }

    static void listOffsets() throws Exception {
        check(produced != null, "produce did not run");
        String topic = prefix + "-plain";
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < PARTITIONS; i++) tps.add(new TopicPartition(topic, i));
            Map<TopicPartition, Long> begin = c.beginningOffsets(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            for (TopicPartition tp : tps) {
                long n = produced.stream().filter(x -> x.partition == tp.partition()).count();
                check(begin.get(tp) == 0, "beginning of " + tp + " is " + begin.get(tp));
                check(end.get(tp) == n, "end of " + tp + " is " + end.get(tp) + ", produced " + n);
            }
            // offsetsForTimes: the first record with timestamp >= t.
            Sent probe = produced.get(produced.size() / 2);
            Map<TopicPartition, OffsetAndTimestamp> ft = c.offsetsForTimes(
                    Map.of(new TopicPartition(topic, probe.partition), probe.timestamp));
            OffsetAndTimestamp ot = ft.get(new TopicPartition(topic, probe.partition));
            long want = produced.stream().filter(x -> x.partition == probe.partition && x.timestamp >= probe.timestamp)
                    .mapToLong(Sent::offset).min().getAsLong();
            check(ot != null && ot.offset() == want, "offsetsForTimes gave " + ot + ", want offset " + want);
            Map<TopicPartition, OffsetAndTimestamp> future = c.offsetsForTimes(
                    Map.of(new TopicPartition(topic, 0), System.currentTimeMillis() + 3_600_000));
            check(future.get(new TopicPartition(topic, 0)) == null, "offsetsForTimes(future) not null");
        }
        try (Admin a = admin()) {
            TopicPartition tp = new TopicPartition(topic, 1);
            long n = produced.stream().filter(x -> x.partition == 1).count();
            long latest = a.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                    .partitionResult(tp).get(30, TimeUnit.SECONDS).offset();
            long earliest = a.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.earliest()))
                    .partitionResult(tp).get(30, TimeUnit.SECONDS).offset();
            check(latest == n && earliest == 0, "Admin listOffsets: earliest " + earliest + " latest " + latest + " (want 0, " + n + ")");
        }
    }

    static void compression() throws Exception {
        for (String codec : List.of("gzip", "snappy", "lz4", "zstd")) {
            String topic = prefix + "-codec-" + codec;
            List<Sent> sent;
            try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec,
                    ProducerConfig.LINGER_MS_CONFIG, "20"))) {
                sent = produceRecords(p, topic, 300, codec);
            }
            try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
                compare(sent, readAll(c, topic, sent.size()));
            } catch (AssertionError e) {
                throw new AssertionError(codec + ": " + e.getMessage(), e);
            }
        }
    }

    static void produceIdempotent() throws Exception {
        String topic = prefix + "-idem";
        List<Sent> sent;
        // Kafka's defaults: enable.idempotence=true, acks=all.
        try (KafkaProducer<byte[], byte[]> p = producer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5"))) {
            sent = produceRecords(p, topic, 500, "idem");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(c, topic, sent.size());
            compare(sent, got);
        }
    }

    static void adminTopics() throws Exception {
        String topic = prefix + "-admin";
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 2, (short) 1)
                    .configs(Map.of("retention.ms", "3600000")))).all().get(30, TimeUnit.SECONDS);
            check(a.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic), "created topic not listed");
            TopicDescription d = a.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            check(d.partitions().size() == 2, "describe: " + d.partitions().size() + " partitions");
            check(d.topicId() != null, "no topic id");
            try {
                a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                throw new AssertionError("creating an existing topic succeeded");
            } catch (java.util.concurrent.ExecutionException e) {
                check(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException,
                        "creating an existing topic: " + e.getCause());
            }
            a.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get(30, TimeUnit.SECONDS);
            d = a.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            check(d.partitions().size() == 4, "after createPartitions: " + d.partitions().size());
            a.deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
            long deadline = System.currentTimeMillis() + 15_000;
            while (a.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic)) {
                check(System.currentTimeMillis() < deadline, "deleted topic still listed");
                Thread.sleep(200);
            }
        }
    }

    static void adminConfigs() throws Exception {
        String topic = prefix + "-cfg";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            p.send(new ProducerRecord<>(topic, b("k"), b("v"))).get(30, TimeUnit.SECONDS);
        }
        try (Admin a = admin()) {
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config c = a.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
            check(c.get("cleanup.policy") != null && "delete".equals(c.get("cleanup.policy").value()),
                    "cleanup.policy: " + c.get("cleanup.policy"));
            a.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"),
                    AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            c = a.describeConfigs(List.of(r)).all().get(30, TimeUnit.SECONDS).get(r);
            check("7200000".equals(c.get("retention.ms").value()), "retention.ms after alter: " + c.get("retention.ms"));
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
            Config bc = a.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
            check(bc.get("num.partitions") != null, "broker config lacks num.partitions");
        }
    }

    static void manualCommit() throws Exception {
        String topic = prefix + "-commit";
        String group = prefix + "-manual";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            produceRecords(p, topic, 90, "commit");
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20_000;
            while (got.size() < 5 && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(300))) got.add(r);
            check(got.size() >= 5, "read only " + got.size());
            c.commitSync(Map.of(tp, new OffsetAndMetadata(5, "meta-5")));
            OffsetAndMetadata om = c.committed(Set.of(tp)).get(tp);
            check(om != null && om.offset() == 5 && "meta-5".equals(om.metadata()), "committed: " + om);
        }
        // A new consumer of the group starts at the committed offset.
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            c.assign(List.of(tp));
            ConsumerRecords<byte[], byte[]> rs = ConsumerRecords.empty();
            long deadline = System.currentTimeMillis() + 20_000;
            while (rs.isEmpty() && System.currentTimeMillis() < deadline) rs = c.poll(Duration.ofMillis(300));
            check(!rs.isEmpty() && rs.iterator().next().offset() == 5, "did not resume at offset 5");
        }
    }

    static void consumerGroup() throws Exception {
        String topic = prefix + "-group";
        String group = prefix + "-g";
        List<Sent> sent;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            sent = produceRecords(p, topic, 300, "group");
        }
        // Three members, one per partition; each polls until the group has read everything.
        List<KafkaConsumer<byte[], byte[]>> members = new ArrayList<>();
        Map<String, ConsumerRecord<byte[], byte[]>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        List<Set<Integer>> assigned = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                        ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000",
                        ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000"));
                c.subscribe(List.of(topic));
                members.add(c);
                assigned.add(new HashSet<>());
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                for (int i = 0; i < members.size(); i++) {
                    KafkaConsumer<byte[], byte[]> c = members.get(i);
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                        seen.put(r.partition() + "@" + r.offset(), r);
                    }
                    assigned.get(i).clear();
                    for (TopicPartition tp : c.assignment()) assigned.get(i).add(tp.partition());
                }
                boolean spread = assigned.stream().allMatch(s -> s.size() == 1);
                if (seen.size() >= sent.size() && spread) break;
            }
            check(seen.size() == sent.size(), "group read " + seen.size() + " of " + sent.size());
            check(assigned.stream().allMatch(s -> s.size() == 1), "assignment not one partition each: " + assigned);
            for (KafkaConsumer<byte[], byte[]> c : members) c.commitSync();
        } finally {
            for (KafkaConsumer<byte[], byte[]> c : members) c.close(Duration.ofSeconds(10));
        }
        // More records; a restarted single member resumes from the committed offsets.
        List<Sent> more;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            more = produceRecords(p, topic, 30, "group-more");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.size() < more.size() && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(300))) got.add(r);
            Set<String> want = more.stream().map(Sent::value).collect(Collectors.toSet());
            Set<String> have = got.stream().map(r -> s(r.value())).collect(Collectors.toSet());
            check(got.size() == more.size() && want.equals(have), "after restart read " + got.size() + " records, want the "
                    + more.size() + " new ones only");
        }
    }

    /**
     * KIP-848: three consumers with group.protocol=consumer share a topic through
     * ConsumerGroupHeartbeat (server-side assignor), one partition each; the Admin client sees a
     * CONSUMER group (ConsumerGroupDescribe) with member epochs; a restarted member resumes from
     * the offsets committed with member epochs; a subscription by regular expression
     * (SubscriptionPattern, resolved by the broker) gets the matching topic; a classic
     * consumer of another group is unaffected.
     */
    static void consumerGroup848() throws Exception {
        String topic = prefix + "-848";
        String group = prefix + "-g848";
        Map<String, Object> kip848 = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group, "group.protocol", "consumer");
        List<Sent> sent;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            sent = produceRecords(p, topic, 300, "g848");
        }
        List<KafkaConsumer<byte[], byte[]>> members = new ArrayList<>();
        Map<String, ConsumerRecord<byte[], byte[]>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        List<Set<Integer>> assigned = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                KafkaConsumer<byte[], byte[]> c = consumer(kip848);
                c.subscribe(List.of(topic));
                members.add(c);
                assigned.add(new HashSet<>());
            }
            long deadline = System.currentTimeMillis() + 60_000;
            while (System.currentTimeMillis() < deadline) {
                for (int i = 0; i < members.size(); i++) {
                    KafkaConsumer<byte[], byte[]> c = members.get(i);
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                        seen.put(r.partition() + "@" + r.offset(), r);
                    }
                    assigned.get(i).clear();
                    for (TopicPartition tp : c.assignment()) assigned.get(i).add(tp.partition());
                }
                boolean spread = assigned.stream().allMatch(x -> x.size() == 1);
                // The first member reads everything before the others join (no initial delay in
                // KIP-848): wait until each member has read its own partition to the end too.
                if (seen.size() >= sent.size() && spread && members.stream().allMatch(JavaClientScenario::caughtUp)) break;
            }
            check(seen.size() == sent.size(), "group read " + seen.size() + " of " + sent.size());
            check(assigned.stream().allMatch(x -> x.size() == 1), "assignment not one partition each: " + assigned);
            for (KafkaConsumer<byte[], byte[]> c : members) c.commitSync();
            try (Admin a = admin()) {
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
                check(d.type() == org.apache.kafka.common.GroupType.CONSUMER, "describe: type " + d.type());
                check(d.members().size() == 3, "describe: " + d.members().size() + " members");
                check(d.members().stream().allMatch(m -> m.assignment().topicPartitions().size() == 1),
                        "describe: assignments " + d.members());
                java.util.Collection<ConsumerGroupListing> consumerGroups = a.listConsumerGroups(
                        new org.apache.kafka.clients.admin.ListConsumerGroupsOptions()
                                .withTypes(Set.of(org.apache.kafka.common.GroupType.CONSUMER)))
                        .all().get(30, TimeUnit.SECONDS);
                check(consumerGroups.stream().anyMatch(g -> g.groupId().equals(group)), "listing by type lacks " + group);
            }
        } finally {
            for (KafkaConsumer<byte[], byte[]> c : members) c.close(Duration.ofSeconds(10));
        }
        List<Sent> more;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            more = produceRecords(p, topic, 30, "g848-more");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(kip848)) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (got.size() < more.size() && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(300))) got.add(r);
            Set<String> want = more.stream().map(Sent::value).collect(Collectors.toSet());
            Set<String> have = got.stream().map(r -> s(r.value())).collect(Collectors.toSet());
            check(got.size() == more.size() && want.equals(have), "after restart read " + got.size() + " records, want the "
                    + more.size() + " new ones only");
        }
        // A regular expression resolved by the broker (SubscriptionPattern, kafka-clients 4.0+).
        String reTopic = prefix + "-re848-a";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            produceRecords(p, reTopic, 10, "re848");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group + "-re",
                "group.protocol", "consumer", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            Class<?> pattern = Class.forName("org.apache.kafka.clients.consumer.SubscriptionPattern");
            Object re = pattern.getConstructor(String.class).newInstance(prefix + "-re848-.*");
            KafkaConsumer.class.getMethod("subscribe", pattern).invoke(c, re);
            int n = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (n < 10 && System.currentTimeMillis() < deadline) n += c.poll(Duration.ofMillis(300)).count();
            check(n == 10, "regex subscription read " + n + " of 10");
        }
    }

    /**
     * KIP-848's online migration, as a rolling upgrade does it: two consumers with
     * group.protocol=classic (cooperative-sticky) share a topic; a third with group.protocol=consumer joins, the broker
     * turns the classic group into a consumer group and the classic members go on in it (JoinGroup,
     * SyncGroup, Heartbeat served by the consumer group: one partition each; the Admin client sees
     * a CONSUMER group whose two classic members are not "upgraded"); the consumer-protocol member
     * closes, the group is classic again and the two take every partition back. Every record of the
     * three rounds is read, and committed offsets carry over each conversion.
     */
    static void consumerGroupMigration() throws Exception {
        String topic = prefix + "-mig";
        String group = prefix + "-gmig";
        // Cooperative: a classic member keeps its partitions across the rebalance and revokes only
        // what the broker's target takes away (its owned partitions are in its subscription).
        Map<String, Object> classic = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group, "group.protocol", "classic",
                ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000", ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500",
                ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        Map<String, Object> modern = Map.of(ConsumerConfig.GROUP_ID_CONFIG, group, "group.protocol", "consumer");
        Map<String, ConsumerRecord<byte[], byte[]>> seen = new java.util.concurrent.ConcurrentHashMap<>();
        int total = 0;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            total += produceRecords(p, topic, 300, "mig1").size();
        }
        List<KafkaConsumer<byte[], byte[]>> classics = new ArrayList<>();
        KafkaConsumer<byte[], byte[]> upgraded = null;
        try {
            for (int i = 0; i < 2; i++) {
                KafkaConsumer<byte[], byte[]> c = consumer(classic);
                c.subscribe(List.of(topic));
                classics.add(c);
            }
            pollUntil(classics, seen, total, List.of(1, 2), "two classic members");
            for (KafkaConsumer<byte[], byte[]> c : classics) c.commitSync();

            // The rolling upgrade reaches one instance: it comes back with the consumer protocol.
            try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
                total += produceRecords(p, topic, 300, "mig2").size();
            }
            upgraded = consumer(modern);
            upgraded.subscribe(List.of(topic));
            List<KafkaConsumer<byte[], byte[]>> all = new ArrayList<>(classics);
            all.add(upgraded);
            pollUntil(all, seen, total, List.of(1, 1, 1), "after the upgrade");
            try (Admin a = admin()) {
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
                check(d.type() == org.apache.kafka.common.GroupType.CONSUMER, "after the upgrade: type " + d.type());
                check(d.members().size() == 3, "after the upgrade: " + d.members().size() + " members");
                List<Object> kinds = new ArrayList<>();
                for (Object m : d.members()) kinds.add(m.getClass().getMethod("upgraded").invoke(m));
                long classicMembers = kinds.stream().filter(k -> k.equals(java.util.Optional.of(false))).count();
                long consumerMembers = kinds.stream().filter(k -> k.equals(java.util.Optional.of(true))).count();
                check(classicMembers == 2 && consumerMembers == 1, "after the upgrade: members upgraded " + kinds);
            }
            for (KafkaConsumer<byte[], byte[]> c : all) c.commitSync();

            // Rolled back: the consumer-protocol instance leaves; the group is classic again.
            upgraded.close(Duration.ofSeconds(10));
            upgraded = null;
            try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
                total += produceRecords(p, topic, 300, "mig3").size();
            }
            pollUntil(classics, seen, total, List.of(1, 2), "after the downgrade");
            try (Admin a = admin()) {
                java.util.Collection<ConsumerGroupListing> listed = a.listConsumerGroups(
                        new org.apache.kafka.clients.admin.ListConsumerGroupsOptions()
                                .withTypes(Set.of(org.apache.kafka.common.GroupType.CLASSIC)))
                        .all().get(30, TimeUnit.SECONDS);
                check(listed.stream().anyMatch(g -> g.groupId().equals(group)), "after the downgrade: not a CLASSIC group");
            }
            check(seen.size() == total, "read " + seen.size() + " of " + total);
        } finally {
            if (upgraded != null) upgraded.close(Duration.ofSeconds(10));
            for (KafkaConsumer<byte[], byte[]> c : classics) c.close(Duration.ofSeconds(10));
        }
    }

    /** Polls every consumer until `total` records were seen and the members hold `shares` partitions (sorted). */
    static void pollUntil(List<KafkaConsumer<byte[], byte[]>> members, Map<String, ConsumerRecord<byte[], byte[]>> seen,
            int total, List<Integer> shares, String what) {
        long deadline = System.currentTimeMillis() + 60_000;
        List<Integer> held = List.of();
        while (System.currentTimeMillis() < deadline) {
            for (KafkaConsumer<byte[], byte[]> c : members)
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) seen.put(r.partition() + "@" + r.offset(), r);
            held = members.stream().map(c -> c.assignment().size()).sorted().collect(Collectors.toList());
            if (seen.size() >= total && held.equals(shares)) return;
        }
        check(false, what + ": read " + seen.size() + " of " + total + ", partitions held " + held + ", want " + shares);
    }

    /** Whether the consumer's position on each of its partitions is the partition's end. */
    static boolean caughtUp(KafkaConsumer<byte[], byte[]> c) {
        Set<TopicPartition> mine = c.assignment();
        if (mine.isEmpty()) return false;
        Map<TopicPartition, Long> ends = c.endOffsets(mine);
        return mine.stream().allMatch(tp -> c.position(tp) >= ends.get(tp));
    }

    static void adminGroups() throws Exception {
        String topic = prefix + "-ag";
        String group = prefix + "-ag";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            produceRecords(p, topic, 30, "ag");
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        TopicPartition tp1 = new TopicPartition(topic, 1);
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group))) {
            c.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            while (c.assignment().isEmpty() && System.currentTimeMillis() < deadline) c.poll(Duration.ofMillis(200));
            c.commitSync(Map.of(tp, new OffsetAndMetadata(3), tp1, new OffsetAndMetadata(2)));
            try (Admin a = admin()) {
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group);
                check(d.members().size() == 1, "describe: " + d.members().size() + " members");
                check(d.members().iterator().next().assignment().topicPartitions().size() == PARTITIONS,
                        "describe: member assignment " + d.members().iterator().next().assignment());
            }
        }
        try (Admin a = admin()) {
            java.util.Collection<ConsumerGroupListing> groups = a.listConsumerGroups().all().get(30, TimeUnit.SECONDS);
            check(groups.stream().anyMatch(g -> g.groupId().equals(group)), "listConsumerGroups lacks " + group);
            Map<TopicPartition, OffsetAndMetadata> offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS);
            check(offs.get(tp) != null && offs.get(tp).offset() == 3, "listConsumerGroupOffsets: " + offs);
            a.alterConsumerGroupOffsets(group, Map.of(tp, new OffsetAndMetadata(1))).all().get(30, TimeUnit.SECONDS);
            offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            check(offs.get(tp).offset() == 1, "after alterConsumerGroupOffsets: " + offs);
            // OffsetDelete of one partition; the group keeps its other offset (a group left Empty
            // without offsets may be removed at once, as Kafka 3.x's coordinator does).
            a.deleteConsumerGroupOffsets(group, Set.of(tp1)).all().get(30, TimeUnit.SECONDS);
            offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            check(offs.containsKey(tp) && !offs.containsKey(tp1), "after deleteConsumerGroupOffsets: " + offs);
            a.deleteConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS);
            groups = a.listConsumerGroups().all().get(30, TimeUnit.SECONDS);
            check(groups.stream().noneMatch(g -> g.groupId().equals(group)), "deleted group still listed");
        }
    }

    static void transactions() throws Exception {
        String topic = prefix + "-txn";
        try (KafkaProducer<byte[], byte[]> p = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-tx",
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "30000"))) {
            p.initTransactions();
            p.beginTransaction();
            for (int i = 0; i < 30; i++) p.send(new ProducerRecord<>(topic, b("k" + i), b("committed-1-" + i)));
            p.commitTransaction();
            p.beginTransaction();
            for (int i = 0; i < 30; i++) p.send(new ProducerRecord<>(topic, b("k" + i), b("aborted-" + i)));
            p.flush();
            p.abortTransaction();
            p.beginTransaction();
            for (int i = 0; i < 30; i++) p.send(new ProducerRecord<>(topic, b("k" + i), b("committed-2-" + i)));
            p.commitTransaction();
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(c, topic, 60);
            Set<String> values = got.stream().map(r -> s(r.value())).collect(Collectors.toSet());
            check(got.size() == 60, "read_committed read " + got.size() + " records, want 60");
            check(values.stream().allMatch(v -> v.startsWith("committed-")), "read_committed saw aborted records");
            // The last stable offset is the end: nothing after the markers.
            check(c.poll(Duration.ofMillis(500)).isEmpty(), "more records after the committed ones");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(c, topic, 90);
            check(got.size() == 90, "read_uncommitted read " + got.size() + " records, want 90");
        }
        // Consume-transform-produce: offsets committed inside the transaction.
        String group = prefix + "-txg";
        String out = prefix + "-txn-out";
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"));
             KafkaProducer<byte[], byte[]> p = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "-tx2"))) {
            p.initTransactions();
            c.subscribe(List.of(topic));
            int n = 0;
            long deadline = System.currentTimeMillis() + 30_000;
            while (n < 60 && System.currentTimeMillis() < deadline) {
                ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(300));
                if (rs.isEmpty()) continue;
                p.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : rs) {
                    p.send(new ProducerRecord<>(out, r.key(), r.value()));
                    offs.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    n++;
                }
                p.sendOffsetsToTransaction(offs, c.groupMetadata());
                p.commitTransaction();
            }
            check(n == 60, "transformed " + n + " of 60");
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(
                    c.assignment().stream().collect(Collectors.toSet()));
            check(committed.values().stream().allMatch(Objects::nonNull), "no committed offsets after sendOffsetsToTransaction");
        }
    }

    /**
     * Consume-transform-produce with transactions V2: 90 input records, each batch transformed and its
     * offsets sent in one transaction; every third transaction is aborted and the consumer goes back
     * to the group's committed offsets, so those records are transformed again. The output, read
     * read_committed, holds each transformed record exactly once; the producer epoch moved on with
     * every commit and abort (the V2 epoch bump: a V1 producer keeps its epoch), as
     * Admin.describeTransactions shows it.
     */
    static void transactionsV2() throws Exception {
        String in = prefix + "-v2-in";
        String out = prefix + "-v2-out";
        String group = prefix + "-v2g";
        String txnId = prefix + "-v2tx";
        int total = 90;
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            for (int i = 0; i < total; i++) p.send(new ProducerRecord<>(in, i % PARTITIONS, b("k" + i), b("v" + i)));
            p.flush();
        }
        int commits = 0, aborts = 0;
        int firstEpoch;
        try (Admin a = admin();
             KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, group,
                     ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                     ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7"));
             KafkaProducer<byte[], byte[]> p = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId))) {
            p.initTransactions();
            firstEpoch = a.describeTransactions(List.of(txnId)).description(txnId).get(30, TimeUnit.SECONDS).producerEpoch();
            c.subscribe(List.of(in));
            Set<String> done = new HashSet<>();
            long deadline = System.currentTimeMillis() + 60_000;
            int batch = 0;
            while (done.size() < total && System.currentTimeMillis() < deadline) {
                ConsumerRecords<byte[], byte[]> rs = c.poll(Duration.ofMillis(300));
                if (rs.isEmpty()) continue;
                p.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offs = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : rs) {
                    p.send(new ProducerRecord<>(out, r.key(), b("T:" + s(r.value()))));
                    offs.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                p.sendOffsetsToTransaction(offs, c.groupMetadata());
                if (++batch % 3 == 0) {
                    p.flush(); // the records reach the log, then the ABORT marker
                    p.abortTransaction();
                    aborts++;
                    // Back to what the group committed: the aborted batch is read and transformed again.
                    Map<TopicPartition, OffsetAndMetadata> committed = c.committed(c.assignment());
                    for (TopicPartition tp : c.assignment()) {
                        OffsetAndMetadata om = committed.get(tp);
                        if (om != null) c.seek(tp, om.offset());
                        else c.seekToBeginning(List.of(tp));
                    }
                } else {
                    p.commitTransaction();
                    commits++;
                    for (ConsumerRecord<byte[], byte[]> r : rs) done.add(s(r.value()));
                }
            }
            check(done.size() == total, "transformed " + done.size() + " of " + total);
            check(aborts > 0, "no transaction was aborted");
            int lastEpoch = a.describeTransactions(List.of(txnId)).description(txnId).get(30, TimeUnit.SECONDS).producerEpoch();
            check(lastEpoch == firstEpoch + commits + aborts, "producer epoch " + firstEpoch + " -> " + lastEpoch
                    + " after " + commits + " commits and " + aborts + " aborts: not transactions V2");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(c, out, total);
            Map<String, Integer> count = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : got) count.merge(s(r.value()), 1, Integer::sum);
            check(got.size() == total, "read_committed read " + got.size() + " transformed records, want " + total);
            for (int i = 0; i < total; i++)
                check(count.getOrDefault("T:v" + i, 0) == 1, "T:v" + i + " seen " + count.getOrDefault("T:v" + i, 0) + " times");
            check(c.poll(Duration.ofMillis(500)).isEmpty(), "more records after the committed ones");
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
            List<ConsumerRecord<byte[], byte[]>> got = readAll(c, out, total + 1);
            check(got.size() > total, "read_uncommitted sees only " + got.size() + ": the aborted records are missing");
        }
    }

    static void deleteRecords() throws Exception {
        String topic = prefix + "-del";
        try (KafkaProducer<byte[], byte[]> p = plainProducer(Map.of())) {
            produceRecords(p, topic, 60, "del");
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin a = admin()) {
            long low = a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(tp)
                    .get(30, TimeUnit.SECONDS).lowWatermark();
            check(low == 4, "low watermark " + low);
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer(Map.of())) {
            check(c.beginningOffsets(List.of(tp)).get(tp) == 4, "beginning offset after deleteRecords");
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            ConsumerRecords<byte[], byte[]> rs = ConsumerRecords.empty();
            long deadline = System.currentTimeMillis() + 20_000;
            while (rs.isEmpty() && System.currentTimeMillis() < deadline) rs = c.poll(Duration.ofMillis(300));
            check(!rs.isEmpty() && rs.iterator().next().offset() == 4, "first record after deleteRecords not at 4");
        }
    }
}
