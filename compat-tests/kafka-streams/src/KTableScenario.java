import java.io.FileWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams KTable restored from a changelog that kbroker's log cleaner compacted: events keyed by
 * 50 users are counted into a KTable (its store's changelog is a cleanup.policy=compact topic, created by
 * Streams with segment.ms=1000 so the cleaner rolls and compacts it). The app runs, stops and wipes its
 * local state; the changelog is read until compaction left one record per key; more events are produced
 * and a new instance restores the counts from the compacted changelog and continues them: the last
 * output per key must equal the total count.
 *
 * Feature reported to $COMPAT_RESULTS: streams-ktable-restore.
 *
 * usage: java KTableScenario BOOTSTRAP
 */
public class KTableScenario {
    static String bootstrap;
    static final String IN = "events-" + System.currentTimeMillis() % 100000;
    static final String OUT = IN + "-counts";
    static final String APP = "counts-" + IN;
    static final String CHANGELOG = APP + "-counts-store-changelog";
    static final int USERS = 50;
    static final Map<String, Long> expected = new TreeMap<>();
    static int next = 0;
    static long changelogEnd = -1;

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        long t0 = System.nanoTime();
        String result = "pass";
        String detail = "kafka-streams " + System.getProperty("kafka.streams.version", "?");
        try {
            try (Admin a = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                a.createTopics(List.of(new NewTopic(IN, 1, (short) 1), new NewTopic(OUT, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            produce(2000);
            runOnce();
            int changelogRecords = awaitCompactedChangelog();
            // Without a record cache every update was written: the offsets show how many there were.
            if (changelogEnd < 2000) throw new AssertionError("changelog has only " + changelogEnd + " offsets; expected one per update");
            produce(500);
            runOnce();
            detail += ": counts of " + USERS + " keys restored from a changelog compacted to " + changelogRecords + " records of " + changelogEnd + " written, then continued";
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            result = "fail";
            detail += ": " + e;
        }
        record("streams-ktable-restore", result, Math.round((System.nanoTime() - t0) / 1e9), detail);
        System.exit(0);
    }

    static void produce(int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int k = 0; k < n; k++) {
                String user = "user-" + (next++ * 7) % USERS;
                producer.send(new ProducerRecord<>(IN, user, "click")).get(30, TimeUnit.SECONDS);
                expected.merge(user, 1L, Long::sum);
            }
        }
    }

    /** Starts a fresh instance (no local state: it restores from the changelog), waits for the counts, stops and wipes it. */
    static void runOnce() throws Exception {
        StreamsBuilder b = new StreamsBuilder();
        b.stream(IN, Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .count(Materialized.as("counts-store"))
                .toStream()
                .to(OUT, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "200");
        // No record cache: every count update goes to the changelog, so only the cleaner can bring it
        // down to one record per key.
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, "0");
        p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("kstreams-ktable").toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
        // The changelog is created with these: the cleaner rolls it after a second and compacts it.
        p.put(StreamsConfig.topicPrefix("segment.ms"), "1000");
        p.put(StreamsConfig.topicPrefix("min.cleanable.dirty.ratio"), "0.01");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "10000");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), "1000");
        KafkaStreams streams = new KafkaStreams(b.build(), p);
        List<Throwable> errors = new ArrayList<>();
        streams.setUncaughtExceptionHandler(e -> {
            errors.add(e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        try {
            awaitCounts(errors);
        } finally {
            streams.close(Duration.ofSeconds(30));
            streams.cleanUp();
        }
    }

    /** Reads the output until the last count of every key is the expected one. */
    static void awaitCounts(List<Throwable> errors) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        Map<String, Long> last = new TreeMap<>();
        try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(p, new StringDeserializer(), new LongDeserializer())) {
            TopicPartition tp = new TopicPartition(OUT, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                if (!errors.isEmpty()) throw new AssertionError("streams failed: " + errors.get(0), errors.get(0));
                for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(300))) last.put(r.key(), r.value());
                if (last.equals(expected)) return;
            }
        }
        Map<String, String> diff = new HashMap<>();
        for (String k : expected.keySet()) if (!expected.get(k).equals(last.get(k))) diff.put(k, last.get(k) + " != " + expected.get(k));
        throw new AssertionError("counts differ (got != want): " + diff);
    }

    /** Reads the changelog from the beginning until it holds one record per key (the cleaner ran). */
    static int awaitCompactedChangelog() throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        int seen = -1;
        while (System.currentTimeMillis() < deadline) {
            Properties p = new Properties();
            p.put("bootstrap.servers", bootstrap);
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                TopicPartition tp = new TopicPartition(CHANGELOG, 0);
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                long end = c.endOffsets(List.of(tp)).get(tp);
                int n = 0;
                while (c.position(tp) < end) n += c.poll(Duration.ofMillis(300)).count();
                seen = n;
                changelogEnd = end;
                if (n == USERS) return n;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("changelog " + CHANGELOG + " not compacted: " + seen + " records for " + USERS + " keys");
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
