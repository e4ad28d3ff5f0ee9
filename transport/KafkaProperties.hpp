#pragma once
// librdkafka property pass-through, shared by the Kafka source ([source.kafka.librdkafka])
// and the Kafka sink ([sinks.librdkafka]): how a TOML value becomes a property's text,
// which values are secrets, and how the properties reach a client's configuration.
// transport-internal (toml++ is a private dependency of transport).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace flowlier::core {
class TomlReader;  // core/TomlReader.hpp
}

namespace flowlier::transport {

// Strings as they are; integers and booleans as librdkafka reads them (as text);
// nullopt for anything else (floats, tables, arrays).
std::optional<std::string> kafka_property_text(const toml::node& value);

// Reads the pass-through table `key` of r's table (absent: `out` unchanged) with
// kafka_property_text; a value it cannot take is an error naming KEY.NAME.
void read_kafka_properties(core::TomlReader& r, std::string_view key, std::map<std::string, std::string>& out);

// The values of the properties that hold secrets (any name with "password", "secret"
// or "sasl.oauthbearer.config"): for redaction, never to be printed.
std::vector<std::string> kafka_property_secrets(const std::map<std::string, std::string>& properties);

// Sets bootstrap.servers to `brokers`, then every pass-through property, on a
// rd_kafka_conf_t. Returns why one was refused as "'<key_prefix>.<name>': why" (the
// property name only, never its value), or "". Only with librdkafka (FLOWLIER_KAFKA).
std::string apply_kafka_properties(void* rd_kafka_conf, const std::string& brokers,
                                   const std::map<std::string, std::string>& properties, std::string_view key_prefix);

}  // namespace flowlier::transport
