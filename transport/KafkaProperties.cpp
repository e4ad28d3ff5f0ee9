#include "transport/KafkaProperties.hpp"

#if FLOWLIER_KAFKA
#include <librdkafka/rdkafka.h>
#endif

#include <fmt/format.h>

#include "core/TomlReader.hpp"

namespace flowlier::transport {

std::optional<std::string> kafka_property_text(const toml::node& value) {
  if (auto s = value.value<std::string>()) return *s;
  if (auto i = value.value<std::int64_t>(); i && value.is_integer()) return std::to_string(*i);
  if (auto b = value.value<bool>()) return *b ? "true" : "false";
  return std::nullopt;
}

void read_kafka_properties(core::TomlReader& r, std::string_view key, std::map<std::string, std::string>& out) {
  const toml::node* n = r.node(key);
  if (n == nullptr) return;
  const auto* table = n->as_table();
  if (table == nullptr) return r.fail(*n, key, "must be a table of strings, integers or booleans");
  for (const auto& [name, value] : *table) {
    auto text = kafka_property_text(value);
    if (!text) return r.fail(value, fmt::format("{}.{}", key, name.str()), "must be a string, integer or boolean");
    out[std::string(name.str())] = *text;
  }
}

std::vector<std::string> kafka_property_secrets(const std::map<std::string, std::string>& properties) {
  std::vector<std::string> out;
  for (const auto& [name, value] : properties) {
    const bool secret = name.find("password") != std::string::npos || name.find("secret") != std::string::npos ||
                        name == "sasl.oauthbearer.config";
    if (secret && !value.empty()) out.push_back(value);
  }
  return out;
}

#if FLOWLIER_KAFKA
std::string apply_kafka_properties(void* conf_pointer, const std::string& brokers,
                                   const std::map<std::string, std::string>& properties, std::string_view key_prefix) {
  auto* conf = static_cast<rd_kafka_conf_t*>(conf_pointer);
  char why[512];
  const auto set = [&](const std::string& name, const std::string& value) -> std::string {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), why, sizeof why) == RD_KAFKA_CONF_OK) return {};
    return fmt::format("'{}.{}': {}", key_prefix, name, why);
  };
  if (auto error = set("bootstrap.servers", brokers); !error.empty()) return error;
  for (const auto& [name, value] : properties) {
    if (auto error = set(name, value); !error.empty()) return error;
  }
  return {};
}
#endif

}  // namespace flowlier::transport
