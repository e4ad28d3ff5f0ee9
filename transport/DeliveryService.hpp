#pragma once
// The spooled sink service (splunk_hec, sumo_logic, webhook, alertmanager, and kafka
// through transport/KafkaProducer, whose outcomes map onto the statuses below): push() appends the event
// to the sink's disk spool (<spool_dir>/<id>); one sender thread takes batches
// (by events, bytes and age) from the spool head, sends them and commits them only
// once the receiver accepted them: at-least-once, in order, surviving restarts.
//   2xx            delivered, committed
//   timeout, network error, 408, 429, 5xx
//                  retried with capped exponential backoff and jitter, Retry-After honoured
//   400, 413, 422, other 4xx
//                  permanent: the batch is split in halves until the bad event stands
//                  alone; it goes to <spool>/dead-letter.jsonl with the reason
//   401, 403, 404  configuration error: logged loudly once, counted, events stay
//                  spooled, retried every auth_retry_ms
// alertmanager: the sender keeps the episodes it delivered firing (at most
// kMaxOpenAlerts, newest kept) and posts them again every resend_interval_seconds
// while the spool is idle, best effort (a failed re-send waits for the next round);
// a delivered resolution forgets the episode. Not persisted: after a restart the
// alerts live until their endsAt (resend_horizon_seconds) unless new events come.
// Thread-safe: push/flush/counters from any thread.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "transport/DiskSpool.hpp"
#include "transport/HttpClient.hpp"
#include "transport/KafkaProducer.hpp"
#include "transport/Sink.hpp"
#include "transport/SinkConfig.hpp"

namespace flowlier::transport {

using SinkLog = std::function<void(const std::string&)>;

class DeliveryService final : public Sink {
 public:
  // Opens the spool (recovering what a previous run left) and starts the sender.
  // On failure returns nullptr with `error` set.
  static std::unique_ptr<DeliveryService> start(SinkConfig config, SinkLog log, std::string& error);
  // Stops the sender (an in-flight request finishes or times out); what is not
  // delivered stays in the spool for the next start.
  ~DeliveryService() override;

  const std::string& id() const override { return config_.id; }
  void push(const SinkEvent& event) override;
  bool try_push(const SinkEvent& event) override;
  bool flush(std::chrono::milliseconds timeout) override;
  SinkCounters counters() const override;

  // Spool record format (exposed for tests): meta JSON, a tab, the event JSON.
  static std::string encode_record(const SinkEvent&);
  static bool decode_record(const std::string& record, SinkEvent& out);
  static constexpr std::size_t kMaxOpenAlerts = 10000;

 private:
  DeliveryService(SinkConfig config, SinkLog log, std::unique_ptr<DiskSpool> spool);
  void run();
  // push() and try_push(): false when full under block and `wait` is false.
  bool append(const SinkEvent& event, bool wait);
  // Delivers events[0..n) in order; returns how many from the front are done
  // (delivered or dead-lettered). Less than n only when stopping.
  std::size_t deliver(std::span<const SinkEvent> events, std::span<const std::string> records);
  bool send_once(std::span<const SinkEvent> events, HttpResponse& response);
  bool hec_acknowledged(std::uint64_t ack_id);
  void dead_letter(std::span<const std::string> records, const std::string& reason);
  bool sleep_for(std::chrono::milliseconds);  // false when stopping
  void remember_open(std::span<const SinkEvent> delivered);  // alertmanager
  // Alertmanager labels (sink, webhook format): each episode's first-firing severity and
  // category, kept in <spool>/opened-labels across restarts until its resolution is
  // delivered. Sender thread only.
  bool fixes_labels() const;
  std::vector<SinkEvent> with_opened_labels(std::span<const SinkEvent> events);
  void forget_opened(std::span<const SinkEvent> delivered);
  void load_opened();
  void save_opened() const;
  void resend_open();                                         // alertmanager, sender thread, unlocked
  std::chrono::milliseconds backoff(std::uint32_t attempt, const HttpResponse&);

  SinkConfig config_;
  SinkLog log_;
  std::unique_ptr<DiskSpool> spool_;
  HttpClient client_;
  std::unique_ptr<KafkaProducer> kafka_;  // kafka sinks: sends instead of client_
  std::string channel_;
  std::mt19937_64 rng_;
  std::chrono::steady_clock::time_point last_send_{};
  // alertmanager, sender thread only: episode -> its last delivered firing event.
  std::map<std::string, SinkEvent> open_;
  std::chrono::steady_clock::time_point next_resend_{};
  struct Opened {
    SinkSeverity severity;
    std::string category;
  };
  std::map<std::string, Opened> opened_;  // episode -> its first firing's labels

  mutable std::mutex mutex_;
  std::condition_variable wake_;   // sender: data, flush or stop
  std::condition_variable space_;  // pushers and flushers: spool shrank
  bool stop_ = false;
  std::uint32_t flushing_ = 0;
  std::chrono::steady_clock::time_point oldest_{};  // when the head batch started waiting
  SinkCounters counters_;
  std::thread thread_;
};

}  // namespace flowlier::transport
