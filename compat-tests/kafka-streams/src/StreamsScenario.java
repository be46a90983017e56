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
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * Kafka Streams against kbroker: orders ("category,amount", keyed by order id) are filtered to
 * amount > 50, re-keyed by category (a repartition topic), summed in 5-minute tumbling windows
 * (a windowed store with its changelog topic) and written as "category@windowStart" -> sum, with
 * processing.guarantee=exactly_once_v2. The last committed value per output key must equal the
 * sums computed here.
 *
 * Features reported to $COMPAT_RESULTS: streams-eos (first run), streams-restart (the app stopped,
 * more input, a new instance restores its state and the sums continue).
 *
 * usage: java StreamsScenario BOOTSTRAP
 */
public class StreamsScenario {
    static String bootstrap;
    static final String IN = "orders-" + System.currentTimeMillis() % 100000;
    static final String OUT = IN + "-sums";
    static final String APP = "sums-" + IN;
    static final long WINDOW = Duration.ofMinutes(5).toMillis();
    static final String[] CATEGORIES = {"books", "games", "music", "tools"};
    static final Map<String, Long> expected = new TreeMap<>();
    static long base;
    static int next = 0;

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        base = (System.currentTimeMillis() - Duration.ofHours(1).toMillis()) / WINDOW * WINDOW;
        String version = System.getProperty("kafka.streams.version", "?");
        System.out.println("kafka-streams " + version + " -> " + bootstrap);
        run("streams-eos", version, 400, true);
        run("streams-restart", version, 100, false);
        System.exit(0);
    }

    static void run(String feature, String version, int orders, boolean first) throws Exception {
        long t0 = System.nanoTime();
        String result = "pass";
        String detail = "kafka-streams " + version;
        try {
            if (first) {
                try (Admin a = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                    a.createTopics(List.of(new NewTopic(IN, 3, (short) 1), new NewTopic(OUT, 3, (short) 1)))
                            .all().get(30, TimeUnit.SECONDS);
                }
            }
            produceOrders(orders);
            KafkaStreams streams = start();
            try {
                awaitSums();
            } finally {
                streams.close(Duration.ofSeconds(30));
                streams.cleanUp();
            }
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            result = "fail";
            detail += ": " + e;
        }
        record(feature, result, Math.round((System.nanoTime() - t0) / 1e9), detail);
    }

    /** Orders in timestamp order across 3 windows; the expected sums are kept in `expected`. */
    static void produceOrders(int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int k = 0; k < n; k++) {
                int i = next++;
                String category = CATEGORIES[(i * 7) % CATEGORIES.length];
                long amount = (i * 37L) % 100; // 0..99: about half pass the > 50 filter
                long ts = base + (i * 1700L) % (3 * WINDOW); // spread over three windows
                producer.send(new ProducerRecord<>(IN, null, ts, "order-" + i, category + "," + amount)).get(30, TimeUnit.SECONDS);
                if (amount > 50) expected.merge(category + "@" + (ts / WINDOW * WINDOW), amount, Long::sum);
            }
        }
    }

    static KafkaStreams start() throws Exception {
        StreamsBuilder b = new StreamsBuilder();
        b.stream(IN, Consumed.with(Serdes.String(), Serdes.String()))
                .filter((k, v) -> Long.parseLong(v.split(",")[1]) > 50)
                .map((k, v) -> KeyValue.pair(v.split(",")[0], Long.parseLong(v.split(",")[1])))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.Long()))
                // Grace: the input is spread over 15 minutes out of order within a partition.
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMinutes(5), Duration.ofHours(2)))
                .reduce(Long::sum, Materialized.with(Serdes.String(), Serdes.Long()))
                .toStream()
                .map((w, sum) -> KeyValue.pair(w.key() + "@" + w.window().start(), sum))
                .to(OUT, Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "200");
        p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("kstreams").toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, "1");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "10000");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), "1000");
        KafkaStreams streams = new KafkaStreams(b.build(), p);
        List<Throwable> errors = new ArrayList<>();
        streams.setUncaughtExceptionHandler(e -> {
            errors.add(e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (!errors.isEmpty()) throw new AssertionError("streams failed: " + errors.get(0), errors.get(0));
            if (System.currentTimeMillis() > deadline || streams.state() == KafkaStreams.State.ERROR
                    || streams.state() == KafkaStreams.State.NOT_RUNNING)
                throw new AssertionError("streams not RUNNING: " + streams.state());
            Thread.sleep(100);
        }
        return streams;
    }

    /** Reads the output (read_committed) until the last value of every key equals the expected sum. */
    static void awaitSums() throws Exception {
        if (expected.size() != 12) throw new AssertionError("test data: " + expected.size() + " windows, want 4 categories x 3");
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Map<String, Long> last = new TreeMap<>();
        try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(p, new StringDeserializer(), new LongDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < 3; i++) tps.add(new TopicPartition(OUT, i));
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 90_000;
            while (System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(300))) last.put(r.key(), r.value());
                if (last.equals(expected)) return;
            }
        }
        Map<String, String> diff = new HashMap<>();
        for (String k : expected.keySet()) if (!expected.get(k).equals(last.get(k))) diff.put(k, last.get(k) + " != " + expected.get(k));
        for (String k : last.keySet()) if (!expected.containsKey(k)) diff.put(k, "unexpected " + last.get(k));
        throw new AssertionError("output sums differ (got != want): " + diff);
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
