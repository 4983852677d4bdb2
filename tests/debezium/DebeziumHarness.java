import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * walbridge's reference connector: the real Debezium PostgreSQL connector in Debezium's embedded
 * engine, writing every event to Kafka the way a Kafka Connect worker does.
 *
 * <pre>java -cp 'classes:libs/*' DebeziumHarness BOOTSTRAP CONNECTOR.properties [CONNECTOR.properties ...]</pre>
 *
 * One engine per properties file (the connector's own properties: name, database.*, slot.name,
 * publication.name, topic.prefix, table.include.list, key/value.converter.schemas.enable, ...), all in
 * this one JVM so that several configurations pay for one JVM start. Each event's key and value are
 * the exact strings Kafka's JsonConverter wrote, its headers what the worker's default header converter
 * (SimpleHeaderConverter) wrote; their UTF-8 bytes go to {@code event.destination()}
 * with one KafkaProducer (ByteArraySerializer, the default partitioner, acks=all, one request in
 * flight as a Connect worker configures it). A batch is committed to the offset store only after
 * Kafka acknowledged all of it.
 *
 * Prints on stdout, per engine and batch: {@code harness: progress engine=NAME events=N first_send_ms=T
 * last_ack_ms=T}, which the benchmark reads. Runs until SIGTERM (engines closed, producer flushed) or
 * until every engine stopped (exit status 1 if any stopped with an error).
 */
public final class DebeziumHarness {

    private static void log(String line) {
        synchronized (System.out) {
            System.out.println("harness: " + line);
            System.out.flush();
        }
    }

    /** Sends each batch to Kafka, waits for the acknowledgements, then marks it processed. */
    private static final class Sender implements DebeziumEngine.ChangeConsumer<ChangeEvent<String, String>> {
        private final String name;
        private final KafkaProducer<byte[], byte[]> producer;
        private long events;
        private long firstSendMs = -1;

        Sender(String name, KafkaProducer<byte[], byte[]> producer) {
            this.name = name;
            this.producer = producer;
        }

        private static byte[] utf8(String text) {
            return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void handleBatch(List<ChangeEvent<String, String>> records,
                DebeziumEngine.RecordCommitter<ChangeEvent<String, String>> committer) throws InterruptedException {
            List<Future<RecordMetadata>> acks = new ArrayList<>(records.size());
            for (ChangeEvent<String, String> event : records) {
                if (firstSendMs < 0) {
                    firstSendMs = System.currentTimeMillis();
                }
                ProducerRecord<byte[], byte[]> record =
                        new ProducerRecord<>(event.destination(), utf8(event.key()), utf8(event.value()));
                for (var header : event.headers()) {
                    Object value = header.getValue();
                    byte[] bytes = value instanceof byte[] raw ? raw : value == null ? null : utf8(value.toString());
                    record.headers().add(header.getKey(), bytes);
                }
                acks.add(producer.send(record));
            }
            for (Future<RecordMetadata> ack : acks) {
                try {
                    ack.get();
                } catch (ExecutionException err) {
                    throw new RuntimeException("engine " + name + ": Kafka refused a record", err.getCause());
                }
            }
            long lastAckMs = System.currentTimeMillis();
            for (ChangeEvent<String, String> event : records) {
                committer.markProcessed(event);
            }
            committer.markBatchFinished();
            events += records.size();
            log("progress engine=" + name + " events=" + events + " first_send_ms=" + firstSendMs
                    + " last_ack_ms=" + lastAckMs);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: DebeziumHarness BOOTSTRAP CONNECTOR.properties [CONNECTOR.properties ...]");
            System.exit(2);
        }
        Properties producerProps = new Properties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        producerProps.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producerProps.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        // what a Kafka Connect worker sets for its source tasks' producers
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        producerProps.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(Integer.MAX_VALUE));
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps);

        int count = args.length - 1;
        CountDownLatch stopped = new CountDownLatch(count);
        boolean[] failed = {false};
        List<DebeziumEngine<ChangeEvent<String, String>>> engines = new ArrayList<>();
        ExecutorService executor = Executors.newFixedThreadPool(count);
        for (int i = 1; i < args.length; i++) {
            Properties props = new Properties();
            try (InputStream in = new FileInputStream(args[i])) {
                props.load(in);
            }
            String name = props.getProperty("name", "engine" + i);
            props.setProperty("name", name);
            props.putIfAbsent("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
            props.putIfAbsent("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
            props.putIfAbsent("offset.storage.file.filename", Path.of(args[i] + ".offsets").toString());
            props.putIfAbsent("offset.flush.interval.ms", "1000");
            // a Connect worker's default header.converter (Kafka headers such as __debezium.oldkey and
            // the __debezium.context.* ones are written with it)
            props.putIfAbsent("header.converter.class", "org.apache.kafka.connect.storage.SimpleHeaderConverter");
            DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class, Json.class, Json.class)
                    .using(props)
                    .notifying(new Sender(name, producer))
                    .using((success, message, error) -> {
                        if (!success) {
                            synchronized (failed) {
                                failed[0] = true;
                            }
                            log("engine " + name + " stopped with an error: " + message);
                            if (error != null) {
                                error.printStackTrace(System.out);
                            }
                        } else {
                            log("engine " + name + " stopped: " + message);
                        }
                        stopped.countDown();
                    })
                    .build();
            engines.add(engine);
            log("starting engine " + name + " (topic.prefix=" + props.getProperty("topic.prefix") + ", slot.name="
                    + props.getProperty("slot.name") + ")");
            executor.execute(engine);
        }

        Thread shutdown = new Thread(() -> {
            log("shutting down");
            for (DebeziumEngine<ChangeEvent<String, String>> engine : engines) {
                try {
                    engine.close();
                } catch (Exception err) {
                    log("closing an engine: " + err);
                }
            }
            executor.shutdown();
            producer.close();
            log("shut down");
        });
        Runtime.getRuntime().addShutdownHook(shutdown);

        stopped.await();
        log("every engine stopped");
        System.exit(failed[0] ? 1 : 0);
    }
}
