import java.io.BufferedReader;
import java.io.FileWriter;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Kafka Streams with the streams rebalance protocol (KIP-1071, `group.protocol=streams`): the broker
 * stores the topology, creates the internal topics and assigns the tasks (StreamsGroupHeartbeat).
 * A word count: lines keyed by line id into a 3-partition topic, split into words, re-keyed by word
 * (repartition topic), counted (state store with a changelog topic), counts written out;
 * exactly_once_v2, no record cache, so every word occurrence yields exactly one output update.
 *
 * Two instances (one stream thread each) join the group and must both be given active tasks;
 * 300 lines are produced; the output, read read_committed, must hold for every word exactly the
 * updates 1, 2, ..., n (no duplicate, none missing). Instance A is closed leaving the group: B must
 * own all 6 tasks; 200 more lines; the output must go on exactly, counts continued from A's state
 * (restored by B from the changelog). Then `kafka-streams-groups --describe` (kafka-tools, same
 * version) must show the group with B's member and its tasks.
 *
 * Features reported to $COMPAT_RESULTS: streams-group, streams-groups-describe.
 *
 * usage: java StreamsGroupScenario BOOTSTRAP
 */
public class StreamsGroupScenario {
    static String bootstrap;
    static final String RUN = String.valueOf(System.currentTimeMillis() % 100000);
    static final String IN = "lines-" + RUN;
    static final String OUT = IN + "-wordcounts";
    static final String APP = "wordcount-" + RUN;
    static final String[] WORDS = {"apple", "banana", "cherry", "date", "elder", "fig", "grape", "hazel", "iris", "juniper", "kiwi", "lime"};
    static final Map<String, Long> expected = new TreeMap<>();
    static int nextLine = 0;
    static final List<Throwable> errors = new CopyOnWriteArrayList<>();

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        long t0 = System.nanoTime();
        String version = System.getProperty("kafka.streams.version", "?");
        String result = "pass";
        String detail = "kafka-streams " + version;
        KafkaStreams a = null, b = null;
        try {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.createTopics(List.of(new NewTopic(IN, 3, (short) 1), new NewTopic(OUT, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            a = start("a", 8001);
            b = start("b", 8002);
            awaitTasks(a, b);
            produce(300);
            Map<String, List<Long>> out = awaitCounts();
            detail += ": two instances, " + tasksOf(a) + "+" + tasksOf(b) + " active tasks; " + expected.values().stream().mapToLong(Long::longValue).sum() + " updates exact";
            a.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(30)));
            a = null;
            long moved = System.nanoTime();
            awaitAllTasksOn(b);
            detail += "; A left, B owns all 6 tasks after " + Math.round((System.nanoTime() - moved) / 1e6) + " ms";
            produce(200);
            awaitCounts();
            detail += "; 200 more lines, " + expected.values().stream().mapToLong(Long::longValue).sum() + " updates in all, exact";
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            result = "fail";
            detail += ": " + e;
        }
        long secs = Math.round((System.nanoTime() - t0) / 1e9);
        record("streams-group", result, secs, detail);

        // kafka-streams-groups --describe while B is still a member.
        long d0 = System.nanoTime();
        String dResult = "fail";
        String dDetail = "";
        try {
            if (b == null) throw new AssertionError("no running instance to describe");
            String state = tool("--describe", "--state", "--group", APP);
            String members = tool("--describe", "--members", "--group", APP);
            String offsets = tool("--describe", "--offsets", "--group", APP);
            System.out.println(state);
            System.out.println(members);
            System.out.println(offsets);
            if (!state.contains(APP) || !state.contains("Stable")) throw new AssertionError("group not Stable: " + state);
            // B alone, with every task of both subtopologies active.
            if (!members.replace(" ", "").contains("ACTIVE:0:[0,1,2];1:[0,1,2];")) throw new AssertionError("B's tasks not shown: " + members);
            // Offsets of the source and repartition topics, all caught up (lag 0).
            if (!offsets.contains(IN) || !offsets.contains(APP + "-words-repartition")) throw new AssertionError("offsets missing: " + offsets);
            dResult = "pass";
            dDetail = "kafka-streams-groups --describe --state/--members/--offsets: " + firstLines(state, 2) + " | " + firstLines(members, 2);
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            dDetail = e.toString();
        }
        record("streams-groups-describe", dResult, Math.round((System.nanoTime() - d0) / 1e9), dDetail);
        if (b != null) b.close(Duration.ofSeconds(30));
        System.exit(0);
    }

    static String firstLines(String s, int n) {
        String[] lines = s.strip().split("\n");
        return String.join(" | ", Arrays.copyOf(lines, Math.min(n, lines.length))).replaceAll("\\s+", " ");
    }

    /** Runs org.apache.kafka.tools.streams.StreamsGroupCommand (kafka-streams-groups) in its own JVM. */
    static String tool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "org.apache.kafka.tools.streams.StreamsGroupCommand", "--bootstrap-server", bootstrap));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder sb = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) sb.append(line).append('\n');
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new AssertionError("kafka-streams-groups hung"); }
        if (p.exitValue() != 0) throw new AssertionError("kafka-streams-groups exited " + p.exitValue() + ": " + sb);
        return sb.toString();
    }

    static KafkaStreams start(String name, int port) throws Exception {
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(IN, Consumed.with(Serdes.String(), Serdes.String()))
                .flatMapValues(line -> Arrays.asList(line.split(" ")))
                .groupBy((k, word) -> word, Grouped.with("words", Serdes.String(), Serdes.String()))
                .count(Materialized.as("counts"))
                .toStream()
                .to(OUT, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "streams");
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "200");
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
        p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "localhost:" + port);
        p.put(StreamsConfig.CLIENT_ID_CONFIG, APP + "-" + name);
        p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("kstreams-group-" + name).toString());
        KafkaStreams s = new KafkaStreams(builder.build(), p);
        s.setUncaughtExceptionHandler(e -> {
            errors.add(e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        s.start();
        return s;
    }

    static int tasksOf(KafkaStreams s) {
        int n = 0;
        for (ThreadMetadata t : s.metadataForLocalThreads()) n += t.activeTasks().size();
        return n;
    }

    static void check() {
        if (!errors.isEmpty()) throw new AssertionError("streams failed: " + errors.get(0), errors.get(0));
    }

    /** Both instances RUNNING with active tasks, 6 in all (2 subtopologies x 3 partitions). */
    static void awaitTasks(KafkaStreams a, KafkaStreams b) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            check();
            if (a.state() == KafkaStreams.State.RUNNING && b.state() == KafkaStreams.State.RUNNING
                    && tasksOf(a) > 0 && tasksOf(b) > 0 && tasksOf(a) + tasksOf(b) == 6) return;
            Thread.sleep(200);
        }
        throw new AssertionError("tasks not spread over both instances: " + a.state() + "/" + tasksOf(a) + ", " + b.state() + "/" + tasksOf(b));
    }

    static void awaitAllTasksOn(KafkaStreams b) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            check();
            if (b.state() == KafkaStreams.State.RUNNING && tasksOf(b) == 6) return;
            Thread.sleep(200);
        }
        throw new AssertionError("B did not take over all tasks: " + b.state() + "/" + tasksOf(b));
    }

    static void produce(int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int k = 0; k < n; k++) {
                int line = nextLine++;
                List<String> words = new ArrayList<>();
                for (int w = 0; w < 1 + line % 4; w++) words.add(WORDS[(line * 5 + w * 7) % WORDS.length]);
                for (String w : words) expected.merge(w, 1L, Long::sum);
                producer.send(new ProducerRecord<>(IN, "line-" + line, String.join(" ", words)));
            }
            producer.flush();
        }
    }

    /**
     * Reads the whole output read_committed until every word's updates are 1..n for the expected n;
     * fails on a duplicate or a gap (exactly once), or when they do not arrive in time.
     */
    static Map<String, List<Long>> awaitCounts() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, List<Long>> seen = new TreeMap<>();
        try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(p, new StringDeserializer(), new LongDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition(OUT, 0), new TopicPartition(OUT, 1), new TopicPartition(OUT, 2));
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                check();
                for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(300))) seen.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
                boolean done = true;
                for (Map.Entry<String, Long> e : expected.entrySet()) {
                    List<Long> got = seen.getOrDefault(e.getKey(), List.of());
                    for (int i = 0; i < got.size(); i++) {
                        if (got.get(i) != i + 1) throw new AssertionError("word " + e.getKey() + ": updates " + got + " are not 1..n (duplicate or gap)");
                    }
                    if (got.size() > e.getValue()) throw new AssertionError("word " + e.getKey() + ": " + got.size() + " updates, expected " + e.getValue());
                    if (got.size() < e.getValue()) done = false;
                }
                if (done && seen.keySet().equals(expected.keySet())) return seen;
            }
        }
        Map<String, String> diff = new HashMap<>();
        for (String k : expected.keySet()) {
            int got = seen.getOrDefault(k, List.of()).size();
            if (got != expected.get(k)) diff.put(k, got + " != " + expected.get(k));
        }
        throw new AssertionError("counts incomplete (got != want): " + diff);
    }

    static void record(String feature, String result, long secs, String detail) throws Exception {
        String line = feature + "\t" + result + "\t" + secs + "\t" + detail.replace('\t', ' ').replace('\n', ' ');
        System.out.println("RESULT " + line);
        String file = System.getenv("COMPAT_RESULTS");
        if (file != null) try (FileWriter w = new FileWriter(file, StandardCharsets.UTF_8, true)) {
            w.write(line + "\n");
        }
    }
}
