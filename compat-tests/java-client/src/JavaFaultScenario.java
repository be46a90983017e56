import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * kbroker's fault injection driven from a Java test, as a user's test in any language would: faults
 * are set through the admin HTTP API (POST /api/faults, header x-kbroker-console: 1) and the real
 * Java client must get through them.
 * - faults-producer-retry: the next 3 Produce requests of a topic answer NOT_LEADER_OR_FOLLOWER;
 *   an idempotent producer retries (its record-retry-total says so) and the record is written once.
 * - faults-consumer-recovers: a consumer's first Fetch of a topic loses its connection before the
 *   broker acts, the next one is delayed 3 s; it reconnects, waits, and reads every record once, in
 *   order.
 * Results go to $COMPAT_RESULTS as JavaClientScenario's do.
 *
 * usage: java JavaFaultScenario BOOTSTRAP ADMIN_URL [feature...]
 */
public class JavaFaultScenario {
    static String bootstrap;
    static String adminUrl;
    static String version = System.getProperty("kafka.clients.version", "?");
    static String prefix;
    static final HttpClient http = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        adminUrl = args[1];
        prefix = "jf" + version.replace(".", "") + "-" + Long.toString(System.currentTimeMillis() % 100000, 36);
        Set<String> only = new HashSet<>(Arrays.asList(args).subList(2, args.length));
        Map<String, Step> features = new LinkedHashMap<>();
        features.put("faults-producer-retry", JavaFaultScenario::producerRetry);
        features.put("faults-consumer-recovers", JavaFaultScenario::consumerRecovers);
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
            } finally {
                clearFaults();
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

    // ---- the admin HTTP API --------------------------------------------------------------------

    static String inject(String json) throws Exception {
        HttpResponse<String> r = http.send(
            HttpRequest.newBuilder(URI.create(adminUrl + "/api/faults"))
                .header("content-type", "application/json")
                .header("x-kbroker-console", "1")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 201, "POST /api/faults " + json + ": " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** The faults still waiting to hit (GET /api/faults); a fault used up is gone from the list. */
    static String activeFaults() throws Exception {
        HttpResponse<String> r = http.send(
            HttpRequest.newBuilder(URI.create(adminUrl + "/api/faults")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 200, "GET /api/faults: " + r.statusCode());
        return r.body();
    }

    static void clearFaults() {
        try {
            http.send(
                HttpRequest.newBuilder(URI.create(adminUrl + "/api/faults"))
                    .header("x-kbroker-console", "1")
                    .DELETE()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            System.out.println("clearing faults: " + e);
        }
    }

    // ---- clients -------------------------------------------------------------------------------

    static Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "15000");
        p.put("default.api.timeout.ms", "30000");
        return p;
    }

    static void createTopic(String topic) throws Exception {
        try (Admin admin = Admin.create(common())) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    static double metric(Map<MetricName, ? extends Metric> metrics, String group, String name) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().group().equals(group) && e.getKey().name().equals(name))
                return ((Number) e.getValue().metricValue()).doubleValue();
        }
        throw new AssertionError("no metric " + group + "/" + name);
    }

    static List<String> readAll(String topic, int expected, Duration within) {
        Properties p = common();
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("auto.offset.reset", "earliest");
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(new TopicPartition(topic, 0)));
            c.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            long deadline = System.nanoTime() + within.toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) values.add(r.value());
            }
            // Anything more (a duplicate) shows up within one more poll.
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) values.add(r.value());
        }
        return values;
    }

    // ---- features ------------------------------------------------------------------------------

    static void producerRetry() throws Exception {
        String topic = prefix + "-retry";
        createTopic(topic);
        Properties p = common();
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("retry.backoff.ms", "50");
        p.put("delivery.timeout.ms", "60000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            // Warm up: metadata known, producer id assigned, so the faults hit the record's Produce.
            producer.send(new ProducerRecord<>(topic, "k", "warm-up")).get(30, TimeUnit.SECONDS);
            inject("{\"api\":\"Produce\",\"topic\":\"" + topic + "\",\"error\":\"NOT_LEADER_OR_FOLLOWER\",\"count\":3}");
            double retriesBefore = metric(producer.metrics(), "producer-metrics", "record-retry-total");
            RecordMetadata md = producer.send(new ProducerRecord<>(topic, "k", "through-the-faults")).get(60, TimeUnit.SECONDS);
            double retries = metric(producer.metrics(), "producer-metrics", "record-retry-total") - retriesBefore;
            check(md.offset() == 1, "offset " + md.offset() + ", expected 1");
            check(retries >= 3, "record-retry-total grew by " + retries + ", expected >= 3");
            check(activeFaults().contains("\"faults\":[]"), "faults not used up: " + activeFaults());
        }
        List<String> values = readAll(topic, 2, Duration.ofSeconds(20));
        check(values.equals(List.of("warm-up", "through-the-faults")), "read back " + values);
    }

    static void consumerRecovers() throws Exception {
        String topic = prefix + "-consume";
        createTopic(topic);
        Properties pp = common();
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        List<String> sent = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int i = 0; i < 10; i++) {
                sent.add("v" + i);
                producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
            }
            producer.flush();
        }
        // The first Fetch of the topic: connection dropped before the broker reads; the next: 3 s late.
        inject("{\"api\":\"Fetch\",\"topic\":\"" + topic + "\",\"drop\":\"before\",\"count\":1}");
        inject("{\"api\":\"Fetch\",\"topic\":\"" + topic + "\",\"delayMs\":3000,\"count\":1}");
        long t0 = System.nanoTime();
        List<String> got = readAll(topic, 10, Duration.ofSeconds(45));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        check(got.equals(sent), "read " + got + ", expected " + sent);
        check(activeFaults().contains("\"faults\":[]"), "faults not used up: " + activeFaults());
        check(ms >= 3000, "read everything in " + ms + " ms: the 3 s delay did not apply");
        System.out.println("consumer read 10 records through a dropped connection and a 3 s delay in " + ms + " ms");
    }
}
