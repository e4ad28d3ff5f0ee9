#include "transport/DeliveryService.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace flowlier::transport {

namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

enum class Outcome { delivered, retry, permanent, config_error };

Outcome classify(const HttpResponse& r) {
  if (r.status >= 200 && r.status < 300) return Outcome::delivered;
  if (r.status == 0 || r.status == 408 || r.status == 429 || r.status >= 500) return Outcome::retry;
  if (r.status == 401 || r.status == 403 || r.status == 404) return Outcome::config_error;
  return Outcome::permanent;
}

// A bounded, secret-free description of an answer: a receiver (or a proxy) may echo
// the request, token and secret URL included, so every configured secret is redacted
// before the text is cut to size.
std::string describe(const HttpResponse& r, const SinkConfig& config) {
  if (config.type == SinkType::kafka) return config.redact(r.error).substr(0, 300);
  if (r.status == 0) return r.error.empty() ? "no answer" : config.redact(r.error);
  std::string body = config.redact(r.body.substr(0, 4096)).substr(0, 200);
  for (auto& ch : body)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return fmt::format("HTTP {} {}", r.status, body);
}

std::string random_guid(std::mt19937_64& rng) {
  const auto a = rng(), b = rng();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffull);
}
}  // namespace

std::string DeliveryService::encode_record(const SinkEvent& e) {
  const auto& m = e.meta;
  json meta = {{"id", m.id},           {"episode", m.episode},     {"resolved", m.resolved},
               {"severity", static_cast<int>(m.severity)},         {"time", m.time},
               {"entity_kind", m.entity_kind}, {"entity_id", m.entity_id}, {"detector", m.detector},
               {"feature", m.feature}, {"category", m.category},   {"summary", m.summary}};
  std::string record = meta.dump(-1, ' ', false, json::error_handler_t::replace);
  record += '\t';
  for (char ch : e.json) record += ch == '\n' ? ' ' : ch;  // a record is one line
  return record;
}

bool DeliveryService::decode_record(const std::string& record, SinkEvent& out) {
  const auto tab = record.find('\t');
  if (tab == std::string::npos) return false;
  const json meta = json::parse(record.substr(0, tab), nullptr, false);
  if (!meta.is_object()) return false;
  try {
    auto& m = out.meta;
    m.id = meta.at("id").get<std::string>();
    m.episode = meta.at("episode").get<std::string>();
    m.resolved = meta.at("resolved").get<bool>();
    m.severity = static_cast<SinkSeverity>(std::clamp(meta.at("severity").get<int>(), 0, 4));
    m.time = meta.at("time").get<std::int64_t>();
    m.entity_kind = meta.at("entity_kind").get<std::string>();
    m.entity_id = meta.at("entity_id").get<std::string>();
    m.detector = meta.at("detector").get<std::string>();
    m.feature = meta.at("feature").get<std::string>();
    m.category = meta.at("category").get<std::string>();
    m.summary = meta.at("summary").get<std::string>();
  } catch (const json::exception&) {
    return false;
  }
  out.json = record.substr(tab + 1);
  return true;
}

std::unique_ptr<DeliveryService> DeliveryService::start(SinkConfig config, SinkLog log, std::string& error) {
  std::string spool_error;
  if (config.spool_dir.empty()) config.spool_dir = default_spool_dir({});
  auto spool = DiskSpool::open(config.spool_dir + "/" + config.id, config.spool_max_bytes, spool_error);
  if (!spool) {
    error = fmt::format("{}: {}", config.redacted(), spool_error);
    return nullptr;
  }
  std::unique_ptr<KafkaProducer> kafka;
  if (config.type == SinkType::kafka) {
    kafka = KafkaProducer::open(config, spool_error);
    if (!kafka) {
      error = fmt::format("{}: {}", config.redacted(), spool_error);
      return nullptr;
    }
  }
  if (!log) log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  // Whatever a log line quotes (a receiver's answer, a libcurl error), no secret is printed.
  log = [log = std::move(log), config](const std::string& line) { log(config.redact(line)); };
  std::unique_ptr<DeliveryService> service(new DeliveryService(std::move(config), std::move(log), std::move(spool)));
  service->kafka_ = std::move(kafka);
  service->thread_ = std::thread([s = service.get()] { s->run(); });
  return service;
}

DeliveryService::DeliveryService(SinkConfig config, SinkLog log, std::unique_ptr<DiskSpool> spool)
    : config_(std::move(config)), log_(std::move(log)), spool_(std::move(spool)), rng_(std::random_device{}()) {
  if (config_.type == SinkType::splunk_hec && config_.ack) channel_ = random_guid(rng_);
  counters_.spool_events = spool_->pending();
  counters_.spool_bytes = spool_->pending_bytes();
  if (spool_->pending() > 0)
    log_(fmt::format("{}: resuming with {} spooled events", config_.redacted(), spool_->pending()));
  if (fixes_labels()) load_opened();
}

bool DeliveryService::fixes_labels() const {
  return config_.type == SinkType::alertmanager ||
         (config_.type == SinkType::webhook && config_.format == WebhookFormat::alertmanager);
}

std::vector<SinkEvent> DeliveryService::with_opened_labels(std::span<const SinkEvent> events) {
  std::vector<SinkEvent> out(events.begin(), events.end());
  bool changed = false;
  for (auto& e : out) {
    auto it = opened_.find(e.meta.episode);
    if (it == opened_.end()) {
      // First seen: its first firing (or a resolution whose firing predates the record).
      if (opened_.size() >= 4 * kMaxOpenAlerts) opened_.erase(opened_.begin());
      it = opened_.emplace(e.meta.episode, Opened{e.meta.severity, e.meta.category}).first;
      changed = true;
    }
    e.meta.opened_known = true;
    e.meta.opened_severity = it->second.severity;
    e.meta.opened_category = it->second.category;
  }
  if (changed) save_opened();
  return out;
}

void DeliveryService::forget_opened(std::span<const SinkEvent> delivered) {
  bool changed = false;
  for (const auto& e : delivered) {
    if (e.meta.resolved) changed = opened_.erase(e.meta.episode) > 0 || changed;
  }
  if (changed) save_opened();
}

void DeliveryService::load_opened() {
  std::ifstream in(config_.spool_dir + "/" + config_.id + "/opened-labels");
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find('\t'), b = line.find('\t', a == std::string::npos ? a : a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const auto severity = parse_sink_severity(line.substr(a + 1, b - a - 1));
    if (severity) opened_[line.substr(0, a)] = Opened{*severity, line.substr(b + 1)};
  }
}

void DeliveryService::save_opened() const {
  const std::string path = config_.spool_dir + "/" + config_.id + "/opened-labels";
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    for (const auto& [episode, o] : opened_) out << episode << '\t' << to_string(o.severity) << '\t' << o.category << '\n';
    if (!out.flush()) return;
  }
  std::rename((path + ".tmp").c_str(), path.c_str());
}

DeliveryService::~DeliveryService() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    spool_->sync();
  }
  wake_.notify_all();
  space_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeliveryService::push(const SinkEvent& event) { append(event, true); }

bool DeliveryService::try_push(const SinkEvent& event) { return append(event, false); }

bool DeliveryService::append(const SinkEvent& event, bool wait) {
  const std::string record = encode_record(event);
  std::unique_lock lock(mutex_);
  if (event.meta.severity < config_.min_severity) {
    ++counters_.received;
    ++counters_.filtered;
    return true;
  }
  while (true) {
    const auto result = spool_->append(record);
    if (result == DiskSpool::Append::ok) break;
    if (result == DiskSpool::Append::error) {
      ++counters_.received;
      ++counters_.dropped;
      counters_.last_error = spool_->error();
      log_(fmt::format("{}: event {} dropped: {}", config_.redacted(), event.meta.id, spool_->error()));
      return true;
    }
    // Full.
    if (config_.spool_full_policy == SpoolFullPolicy::drop_newest || stop_ ||
        record.size() + 1 > config_.spool_max_bytes) {
      ++counters_.received;
      ++counters_.dropped;
      return true;
    }
    if (!wait) return false;
    space_.wait_for(lock, std::chrono::milliseconds(200));
  }
  ++counters_.received;
  if (spool_->pending() == 1) oldest_ = Clock::now();
  counters_.spool_events = spool_->pending();
  counters_.spool_bytes = spool_->pending_bytes();
  if (spool_->pending() >= config_.batch_max_events || spool_->pending_bytes() >= config_.batch_max_bytes)
    wake_.notify_all();
  else if (spool_->pending() == 1)
    wake_.notify_all();  // starts the age clock in the sender
  return true;
}

bool DeliveryService::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  spool_->sync();
  ++flushing_;
  wake_.notify_all();
  const bool done = space_.wait_for(lock, timeout, [&] { return spool_->pending() == 0; });
  --flushing_;
  return done;
}

SinkCounters DeliveryService::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

bool DeliveryService::sleep_for(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, duration, [&] { return stop_; });
}

std::chrono::milliseconds DeliveryService::backoff(std::uint32_t attempt, const HttpResponse& response) {
  if (response.retry_after_ms) return std::chrono::milliseconds(*response.retry_after_ms);
  const double base = std::min<double>(config_.backoff_max_ms,
                                       config_.backoff_initial_ms * std::pow(2.0, std::min<std::uint32_t>(attempt, 30)));
  // "Equal jitter": half fixed, half random, so senders spread out but still back off.
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(base * jitter(rng_)));
}

void DeliveryService::remember_open(std::span<const SinkEvent> delivered) {
  for (const auto& e : delivered) {
    if (e.meta.resolved) {
      open_.erase(e.meta.episode);
    } else if (open_.size() < kMaxOpenAlerts || open_.count(e.meta.episode)) {
      open_[e.meta.episode] = e;
    }
  }
}

void DeliveryService::resend_open() {
  std::vector<SinkEvent> events;
  events.reserve(open_.size());
  for (const auto& [episode, e] : open_) events.push_back(e);
  std::size_t failed = 0;
  for (std::size_t i = 0; i < events.size(); i += config_.batch_max_events) {
    const std::size_t n = std::min<std::size_t>(config_.batch_max_events, events.size() - i);
    HttpResponse response;
    if (!send_once(std::span<const SinkEvent>(events.data() + i, n), response)) return;  // stopping
    if (response.status < 200 || response.status >= 300) failed += n;
  }
  if (failed > 0) log_(fmt::format("{}: re-sending {} open alerts failed; next round in {} s", config_.redacted(),
                                   failed, config_.resend_interval_seconds));
}

void DeliveryService::run() {
  std::unique_lock lock(mutex_);
  const bool resends = config_.type == SinkType::alertmanager && config_.resend_interval_seconds > 0;
  const auto interval = std::chrono::seconds(config_.resend_interval_seconds);
  while (true) {
    if (resends && !open_.empty()) {
      wake_.wait_until(lock, next_resend_, [&] { return stop_ || spool_->pending() > 0; });
      if (stop_) return;
      if (spool_->pending() == 0) {  // idle and due
        lock.unlock();
        resend_open();
        lock.lock();
        next_resend_ = Clock::now() + interval;
        continue;
      }
    } else {
      wake_.wait(lock, [&] { return stop_ || spool_->pending() > 0; });
    }
    if (stop_) return;
    // Batch by age: wait until the batch is full, old enough, or someone flushes.
    const auto deadline = oldest_ + std::chrono::milliseconds(config_.batch_timeout_ms);
    wake_.wait_until(lock, deadline, [&] {
      return stop_ || flushing_ > 0 || spool_->pending() >= config_.batch_max_events ||
             spool_->pending_bytes() >= config_.batch_max_bytes;
    });
    if (stop_) return;
    const auto records = spool_->peek(config_.batch_max_events, config_.batch_max_bytes);
    lock.unlock();

    std::vector<SinkEvent> events(records.size());
    std::vector<std::string> ok_records;
    std::vector<SinkEvent> ok_events;
    std::size_t done = 0;
    // Undecodable records (disk corruption) are dead-lettered in place, keeping order.
    std::size_t start = 0;
    for (std::size_t i = 0; i <= records.size(); ++i) {
      const bool end = i == records.size();
      if (!end && decode_record(records[i], events[i])) continue;
      std::span<const SinkEvent> run_events(events.data() + start, i - start);
      std::span<const std::string> run_records(records.data() + start, i - start);
      const auto n = run_events.empty() ? 0 : deliver(run_events, run_records);
      if (resends) remember_open(run_events.first(n));
      if (fixes_labels()) forget_opened(run_events.first(n));
      done += n;
      if (n < run_events.size()) break;
      if (!end) {
        dead_letter(std::span<const std::string>(&records[i], 1), "unreadable spool record");
        ++done;
      }
      start = i + 1;
    }

    lock.lock();
    if (!spool_->commit(done)) {
      counters_.last_error = spool_->error();
      log_(fmt::format("{}: {}", config_.redacted(), spool_->error()));
    }
    oldest_ = Clock::now();
    if (resends && open_.size() > 0 && next_resend_ <= oldest_) next_resend_ = oldest_ + interval;
    counters_.spool_events = spool_->pending();
    counters_.spool_bytes = spool_->pending_bytes();
    space_.notify_all();
    if (done < records.size() && stop_) return;
  }
}

bool DeliveryService::send_once(std::span<const SinkEvent> events, HttpResponse& response) {
  if (config_.min_interval_ms > 0 && last_send_ != Clock::time_point{}) {
    const auto next = last_send_ + std::chrono::milliseconds(config_.min_interval_ms);
    const auto now = Clock::now();
    if (next > now && !sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(next - now))) return false;
  }
  last_send_ = Clock::now();
  std::vector<SinkEvent> labelled;
  if (fixes_labels()) {
    labelled = with_opened_labels(events);
    events = labelled;
  }
  if (kafka_) {
    return kafka_->send(events, [this] {
      std::lock_guard lock(mutex_);
      return stop_;
    }, response);
  }
  if (config_.type != SinkType::alertmanager) {
    response = client_.post(build_request(config_, events, channel_), config_.timeout_ms);
    return true;
  }
  // An HA pair: every Alertmanager gets the batch (they deduplicate among themselves);
  // delivered when one accepted it, otherwise the last failure decides the retry.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  HttpRequest request = build_request(config_, events, channel_, now);
  bool accepted = false;
  const auto endpoints = alertmanager_endpoints(config_);
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    request.url = endpoints[i];
    auto r = client_.post(request, config_.timeout_ms);
    const bool ok = r.status >= 200 && r.status < 300;
    if (!ok && log_) log_(fmt::format("{}: Alertmanager #{} (urls[{}]) answered {} {}", config_.id, i + 1, i, r.status, r.error));
    if (ok && !accepted) {
      accepted = true;
      response = std::move(r);
    } else if (!accepted) {
      response = std::move(r);
    }
  }
  return true;
}

bool DeliveryService::hec_acknowledged(std::uint64_t ack_id) {
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < give_up) {
    const std::uint64_t ids[] = {ack_id};
    const auto r = client_.post(build_hec_ack_request(config_, channel_, ids), config_.timeout_ms);
    if (r.status == 200) {
      const json body = json::parse(r.body, nullptr, false);
      const auto key = std::to_string(ack_id);
      if (body.is_object() && body.contains("acks") && body["acks"].is_object() && body["acks"].contains(key) &&
          body["acks"][key] == true)
        return true;
    }
    if (!sleep_for(std::chrono::milliseconds(250))) return false;
  }
  return false;
}

std::size_t DeliveryService::deliver(std::span<const SinkEvent> events, std::span<const std::string> records) {
  std::uint32_t attempt = 0;
  while (true) {
    HttpResponse response;
    if (!send_once(events, response)) return 0;
    auto outcome = classify(response);
    if (outcome == Outcome::delivered && !channel_.empty()) {
      const json body = json::parse(response.body, nullptr, false);
      if (body.is_object() && body.contains("ackId") && body["ackId"].is_number_unsigned()) {
        if (!hec_acknowledged(body["ackId"].get<std::uint64_t>())) {
          response.status = 0;
          response.error = "not acknowledged by the indexer";
          outcome = Outcome::retry;
        }
      }
    }
    switch (outcome) {
      case Outcome::delivered: {
        std::lock_guard lock(mutex_);
        counters_.delivered += events.size();
        if (counters_.config_error) log_(fmt::format("{}: receiver accepts events again", config_.redacted()));
        counters_.config_error = false;
        return events.size();
      }
      case Outcome::permanent: {
        if (events.size() == 1) {
          dead_letter(records, describe(response, config_));
          return 1;
        }
        const auto half = events.size() / 2;
        const auto left = deliver(events.first(half), records.first(half));
        if (left < half) return left;
        return half + deliver(events.subspan(half), records.subspan(half));
      }
      case Outcome::config_error: {
        {
          std::lock_guard lock(mutex_);
          if (!counters_.config_error)
            log_(fmt::format("ERROR {}: configuration error ({}): check the {}; events stay spooled, "
                             "retrying every {} ms",
                             config_.redacted(), describe(response, config_),
                             kafka_ ? "topic, its ACLs and the sasl/ssl properties" : "token and URL",
                             config_.auth_retry_ms));
          counters_.config_error = true;
          counters_.last_error = describe(response, config_);
          ++counters_.retried;
        }
        if (!sleep_for(std::chrono::milliseconds(config_.auth_retry_ms))) return 0;
        break;
      }
      case Outcome::retry: {
        ++attempt;
        {
          std::lock_guard lock(mutex_);
          ++counters_.retried;
          counters_.last_error = describe(response, config_);
        }
        if (config_.max_retries > 0 && attempt > config_.max_retries) {
          dead_letter(records, fmt::format("gave up after {} retries: {}", config_.max_retries, describe(response, config_)));
          return events.size();
        }
        if (!sleep_for(backoff(attempt - 1, response))) return 0;
        break;
      }
    }
  }
}

void DeliveryService::dead_letter(std::span<const std::string> records, const std::string& reason) {
  std::string lines;
  for (const auto& record : records) {
    const auto tab = record.find('\t');
    json line = {{"reason", reason}, {"sink", config_.id}};
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    const bool whole = tab != std::string::npos && json::accept(record.substr(tab + 1));
    text = whole ? text.substr(0, text.size() - 1) + ",\"event\":" + record.substr(tab + 1) + "}"
                 : text.substr(0, text.size() - 1) + ",\"record\":" + json(record).dump(-1, ' ', false, json::error_handler_t::replace) + "}";
    lines += text + '\n';
  }
  const auto path = config_.spool_dir + "/" + config_.id + "/dead-letter.jsonl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const bool ok = fd >= 0 && ::write(fd, lines.data(), lines.size()) == static_cast<ssize_t>(lines.size()) &&
                  ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  std::lock_guard lock(mutex_);
  counters_.dead_lettered += records.size();
  counters_.last_error = reason;
  log_(fmt::format("{}: {} event(s) dead-lettered{}: {}", config_.redacted(), records.size(),
                   ok ? "" : " (and the dead-letter file could not be written)", reason));
}

}  // namespace flowlier::transport
