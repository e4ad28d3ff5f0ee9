#include "transport/SinkConfig.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/TomlReader.hpp"
#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {

const char* to_string(SinkType t) {
  switch (t) {
    case SinkType::splunk_hec: return "splunk_hec";
    case SinkType::sumo_logic: return "sumo_logic";
    case SinkType::webhook: return "webhook";
    case SinkType::file: return "file";
    case SinkType::stdout_: return "stdout";
    case SinkType::alertmanager: return "alertmanager";
    case SinkType::kafka: return "kafka";
  }
  return "?";
}

const char* to_string(KafkaKey k) { return k == KafkaKey::entity ? "entity" : "episode"; }

const char* to_string(WebhookFormat f) {
  switch (f) {
    case WebhookFormat::alertmanager: return "alertmanager";
    case WebhookFormat::pagerduty: return "pagerduty";
    case WebhookFormat::slack: return "slack";
    case WebhookFormat::json: return "json";
  }
  return "?";
}

const char* to_string(SinkSeverity s) {
  switch (s) {
    case SinkSeverity::info: return "info";
    case SinkSeverity::low: return "low";
    case SinkSeverity::medium: return "medium";
    case SinkSeverity::high: return "high";
    case SinkSeverity::critical: return "critical";
  }
  return "?";
}

std::optional<SinkSeverity> parse_sink_severity(std::string_view s) {
  for (auto v : {SinkSeverity::info, SinkSeverity::low, SinkSeverity::medium, SinkSeverity::high,
                 SinkSeverity::critical})
    if (s == to_string(v)) return v;
  return std::nullopt;
}

namespace {
// The user:password@ of a URL ("" when none). Passwords are often written with '/',
// '?' or '#' unencoded, so the credentials end at the last '@' of the URL, wherever the
// first '/' is.
std::string_view url_userinfo(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto rest = url.substr(scheme + 3);
  const auto at = rest.rfind('@');
  return at == std::string_view::npos ? std::string_view() : rest.substr(0, at + 1);
}

// "https://user:pa/ss@host:port/secret/path?q" -> "https://host:port/..." (no credentials, no path).
std::string url_origin(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url.empty() ? "" : "<url>";
  std::string_view rest = std::string_view(url).substr(scheme + 3 + url_userinfo(url).size());
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  return url.substr(0, scheme + 3) + std::string(host) + (rest.size() > host.size() ? "/..." : "");
}

// The secret parts of one URL: its credentials (whole and the password alone) and, for
// the sinks whose URL is itself the secret (Sumo Logic collector, webhooks), its path
// and query.
void add_url_secrets(const std::string& url, bool path_is_secret, std::vector<std::string>& out) {
  const std::string_view userinfo = url_userinfo(url);
  if (!userinfo.empty()) {
    const std::string_view credentials = userinfo.substr(0, userinfo.size() - 1);
    out.emplace_back(credentials);
    if (const auto colon = credentials.find(':'); colon != std::string_view::npos) {
      out.emplace_back(credentials.substr(colon + 1));
    }
  }
  if (!path_is_secret) return;
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return;
  const std::string_view rest = std::string_view(url).substr(scheme + 3 + userinfo.size());
  const auto path = rest.find_first_of("/?#");
  if (path != std::string_view::npos && rest.size() - path > 1) out.emplace_back(rest.substr(path + 1));
}

using core::TomlReader;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

void read_sink(TomlReader& r, SinkConfig& c, std::size_t index) {
  std::string type;
  r.get("type", type);
  if (!r.error().empty()) return;
  if (type == "splunk_hec") c.type = SinkType::splunk_hec;
  else if (type == "sumo_logic") c.type = SinkType::sumo_logic;
  else if (type == "webhook") c.type = SinkType::webhook;
  else if (type == "file") c.type = SinkType::file;
  else if (type == "stdout") c.type = SinkType::stdout_;
  else if (type == "alertmanager") c.type = SinkType::alertmanager;
  else if (type == "kafka") c.type = SinkType::kafka;
  else return r.fail("type", type.empty() ? "is required (splunk_hec, sumo_logic, webhook, alertmanager, kafka, file, stdout)"
                                          : "must be splunk_hec, sumo_logic, webhook, alertmanager, kafka, file or stdout");
  c.id = fmt::format("{}-{}", type, index);
  r.get("id", c.id);
  if (c.id.empty() || c.id.find_first_of("/\\") != std::string::npos || c.id == "." || c.id == "..")
    r.fail("id", "must be a non-empty name without slashes");
  std::string severity = "info";
  r.get("min_severity", severity);
  if (auto s = parse_sink_severity(severity)) c.min_severity = *s;
  else r.fail("min_severity", "must be info, low, medium, high or critical");

  const bool http = c.type == SinkType::splunk_hec || c.type == SinkType::sumo_logic ||
                    c.type == SinkType::webhook || c.type == SinkType::alertmanager;
  if (c.type == SinkType::alertmanager) {
    r.get("urls", c.urls);
    if (r.has("urls") && r.has("url")) r.fail("urls", "and 'url' exclude each other");
    if (r.has("urls") && c.urls.empty()) r.fail("urls", "must name at least one Alertmanager");
    for (const auto& u : c.urls)
      if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) r.fail("urls", "must start with http:// or https://");
    if (!c.urls.empty()) c.url = c.urls.front();
  }
  if (http) {
    if (c.urls.empty()) r.get("url", c.url);
    if (c.type == SinkType::alertmanager && c.urls.empty()) c.urls.push_back(c.url);
    if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      r.fail("url", "is required and must start with http:// or https://");
    r.get("timeout_ms", c.timeout_ms);
  }
  if (c.type == SinkType::kafka) {
    // librdkafka batches on its own (linger.ms): the spool hands it events sooner.
    c.batch_max_events = 1000;
    c.batch_timeout_ms = 100;
  }
  if (http || c.type == SinkType::kafka) {  // spooled sinks
    r.get("batch_max_events", c.batch_max_events);
    r.get("batch_max_bytes", c.batch_max_bytes);
    r.get("batch_timeout_ms", c.batch_timeout_ms);
    r.get("max_retries", c.max_retries);
    r.get("backoff_initial_ms", c.backoff_initial_ms);
    r.get("backoff_max_ms", c.backoff_max_ms);
    r.get("auth_retry_ms", c.auth_retry_ms);
    r.get("spool_dir", c.spool_dir);
    r.get("spool_max_bytes", c.spool_max_bytes);
    std::string policy = "block";
    r.get("spool_full_policy", policy);
    if (policy == "block") c.spool_full_policy = SpoolFullPolicy::block;
    else if (policy == "drop_newest") c.spool_full_policy = SpoolFullPolicy::drop_newest;
    else r.fail("spool_full_policy", "must be block or drop_newest");
    if (c.batch_max_events == 0) r.fail("batch_max_events", "must be at least 1");
    if (c.batch_max_bytes < 1024) r.fail("batch_max_bytes", "must be at least 1024");
    if (c.backoff_initial_ms == 0) r.fail("backoff_initial_ms", "must be at least 1");
    if (c.backoff_max_ms < c.backoff_initial_ms) r.fail("backoff_max_ms", "must be at least backoff_initial_ms");
    if (c.spool_max_bytes < 4096) r.fail("spool_max_bytes", "must be at least 4096");
  }
  switch (c.type) {
    case SinkType::splunk_hec: {
      std::string token_file, token_env;
      r.get("token", c.token);
      r.get("token_file", token_file);
      r.get("token_env", token_env);
      const int given = r.has("token") + r.has("token_file") + r.has("token_env");
      if (given != 1) {
        r.fail(r.has("token_file") ? "token_file" : r.has("token_env") ? "token_env" : "token",
               "exactly one of token, token_file, token_env is required");
      } else if (!token_file.empty()) {
        std::ifstream in(token_file);
        std::stringstream text;
        text << in.rdbuf();
        c.token = trim(text.str());
        if (!in || c.token.empty()) r.fail("token_file", fmt::format("cannot read a token from {}", token_file));
      } else if (!token_env.empty()) {
        const char* v = std::getenv(token_env.c_str());
        c.token = v ? trim(v) : "";
        if (c.token.empty()) r.fail("token_env", fmt::format("environment variable {} is not set", token_env));
      } else if (c.token.empty()) {
        r.fail("token", "must not be empty");
      }
      r.get("index", c.index);
      r.get("source", c.source);
      r.get("sourcetype", c.sourcetype);
      r.get("host", c.host);
      r.get("gzip", c.gzip);
      r.get("ack", c.ack);
      break;
    }
    case SinkType::sumo_logic:
      c.gzip = true;
      c.batch_max_bytes = 1000000;
      r.get("gzip", c.gzip);
      r.get("batch_max_bytes", c.batch_max_bytes);
      if (c.batch_max_bytes > 1000000) r.fail("batch_max_bytes", "must be at most 1000000 (Sumo Logic's 1 MB limit)");
      r.get("category", c.category);
      r.get("name", c.sumo_name);
      r.get("host", c.host);
      r.get("fields", c.fields);
      break;
    case SinkType::webhook: {
      std::string format;
      r.get("format", format);
      if (format == "alertmanager") c.format = WebhookFormat::alertmanager;
      else if (format == "pagerduty") c.format = WebhookFormat::pagerduty;
      else if (format == "slack") c.format = WebhookFormat::slack;
      else if (format == "json") c.format = WebhookFormat::json;
      else return r.fail("format", "must be alertmanager, pagerduty, slack or json");
      if (c.format == WebhookFormat::pagerduty) {
        r.get("routing_key", c.routing_key);
        if (c.routing_key.empty()) r.fail("routing_key", "is required for format = \"pagerduty\"");
        c.batch_max_events = 1;  // Events API v2 takes one event per request
      }
      if (c.format == WebhookFormat::slack) {
        c.min_interval_ms = 1000;
        c.batch_max_events = 20;
        r.get("min_interval_ms", c.min_interval_ms);
        r.get("batch_max_events", c.batch_max_events);
      }
      break;
    }
    case SinkType::alertmanager:
      r.get("resend_horizon_seconds", c.resend_horizon_seconds);
      r.get("resend_interval_seconds", c.resend_interval_seconds);
      r.get("generator_url", c.generator_url);
      if (c.resend_horizon_seconds == 0) r.fail("resend_horizon_seconds", "must be at least 1");
      if (c.resend_interval_seconds > 0 && c.resend_horizon_seconds < 2 * std::uint64_t{c.resend_interval_seconds})
        r.fail("resend_horizon_seconds", "must be at least twice resend_interval_seconds");
      break;
    case SinkType::file:
      r.get("path", c.path);
      if (c.path.empty()) r.fail("path", "is required for a file sink");
      r.get("max_bytes", c.max_bytes);
      r.get("max_files", c.max_files);
      if (c.max_bytes < 1024) r.fail("max_bytes", "must be at least 1024");
      break;
    case SinkType::kafka: {
      r.get("brokers", c.brokers);
      r.get("topic", c.topic);
      std::string key = "episode";
      r.get("key", key);
      read_kafka_properties(r, "librdkafka", c.librdkafka);
      if (c.brokers.empty()) r.fail("brokers", "is required for a kafka sink");
      if (c.topic.empty()) r.fail("topic", "is required for a kafka sink");
      if (key == "episode") c.kafka_key = KafkaKey::episode;
      else if (key == "entity") c.kafka_key = KafkaKey::entity;
      else r.fail("key", "must be \"episode\" or \"entity\"");
      // Delivery is acknowledged only by an idempotent producer (acks=all, no duplicates
      // from librdkafka's own retries): these are flowlier's, not the pass-through's.
      for (const char* owned : {"bootstrap.servers", "enable.idempotence", "acks", "request.required.acks",
                                "transactional.id"}) {
        if (c.librdkafka.count(owned))
          r.fail("librdkafka", fmt::format("'{}' is set by flowlier (brokers; an idempotent producer, acks=all)", owned));
      }
      break;
    }
    case SinkType::stdout_: break;
  }
  r.reject_unknown(fmt::format(" for a {} sink", to_string(c.type)));
}
}  // namespace

std::string SinkConfig::redacted() const {
  std::string out = fmt::format("{} sink '{}'", to_string(type), id);
  if (type == SinkType::file) out += fmt::format(" -> {}", path);
  if (type == SinkType::alertmanager && urls.size() > 1) {
    for (std::size_t i = 0; i < urls.size(); ++i) out += fmt::format("{}{}", i == 0 ? " -> " : ", ", url_origin(urls[i]));
  } else if (!url.empty()) {
    out += fmt::format(" -> {}", url_origin(url));
  }
  if (type == SinkType::webhook) out += fmt::format(" (format {})", to_string(format));
  if (type == SinkType::kafka) out += fmt::format(" -> topic {} on {} (key {})", topic, brokers, to_string(kafka_key));
  return out;
}

std::vector<std::string> SinkConfig::secrets() const {
  std::vector<std::string> out;
  if (!token.empty()) out.push_back(token);
  if (!routing_key.empty()) out.push_back(routing_key);
  const bool path_is_secret = type == SinkType::sumo_logic || type == SinkType::webhook;
  add_url_secrets(url, path_is_secret, out);
  for (const auto& u : urls) add_url_secrets(u, path_is_secret, out);
  for (auto& secret : kafka_property_secrets(librdkafka)) out.push_back(std::move(secret));
  // Short strings would blank out ordinary words; a secret that short is no secret anyway.
  std::erase_if(out, [](const std::string& secret) { return secret.size() < 4; });
  // Longest first, so a secret inside another is not left half replaced.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return out;
}

std::string SinkConfig::redact(std::string text) const {
  for (const auto& secret : secrets()) {
    // Also as a JSON string would carry it (an echoing receiver escapes '/').
    std::string escaped;
    for (char ch : secret) escaped += ch == '/' ? std::string("\\/") : std::string(1, ch);
    for (const std::string* form : {&secret, static_cast<const std::string*>(&escaped)}) {
      for (auto at = text.find(*form); at != std::string::npos; at = text.find(*form, at)) {
        text.replace(at, form->size(), "<redacted>");
        at += 10;
      }
    }
  }
  return text;
}

SinkConfigResult read_sink_configs(const core::ConfigDocument& document) {
  SinkConfigResult result;
  const std::string& source = document.source();
  const toml::node* sinks = document.tree().root.get("sinks");
  if (!sinks) return result;
  const auto* array = sinks->as_array();
  if (!array) {
    result.error = fmt::format("{}:{}: 'sinks' must be an array of tables ([[sinks]])", source,
                               sinks->source().begin.line);
    return result;
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto* table = (*array)[i].as_table();
    if (!table) {
      result.error = fmt::format("{}:{}: 'sinks[{}]' must be a table", source, (*array)[i].source().begin.line, i);
      return result;
    }
    SinkConfig c;
    TomlReader r(*table, source, fmt::format("sinks[{}].", i));
    read_sink(r, c, i);
    if (r.error().empty() && !ids.insert(c.id).second) r.fail("id", "duplicates another sink's id");
    if (!r.error().empty()) {
      result.error = r.error();
      result.sinks.clear();
      return result;
    }
    result.sinks.push_back(std::move(c));
  }
  return result;
}

SinkConfigResult parse_sink_configs(const std::string& text, const std::string& source) {
  auto parsed = core::parse_config_document(text, source);
  if (!parsed.error.empty()) return SinkConfigResult{{}, std::move(parsed.error)};
  return read_sink_configs(parsed.document);
}

SinkConfigResult load_sink_configs_file(const std::string& path) {
  auto loaded = core::load_config_document(path);
  if (!loaded.error.empty()) return SinkConfigResult{{}, std::move(loaded.error)};
  return read_sink_configs(loaded.document);
}

std::string default_spool_dir(const std::string& state_path) {
  const auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  // systemd may list several state directories, separated by ':'; the unit has one.
  if (std::string dir = env("STATE_DIRECTORY"); !dir.empty()) return dir.substr(0, dir.find(':')) + "/spool";
  if (!state_path.empty()) {
    const std::filesystem::path parent = std::filesystem::path(state_path).parent_path();
    return ((parent.empty() ? std::filesystem::path(".") : parent) / "spool").string();
  }
  if (std::string dir = env("XDG_STATE_HOME"); !dir.empty()) return dir + "/flowlier/spool";
  if (std::string home = env("HOME"); !home.empty()) return home + "/.local/state/flowlier/spool";
  return (std::filesystem::temp_directory_path() / "flowlier-spool").string();
}

}  // namespace flowlier::transport
