#pragma once
// The live entity API on the metrics listener:
//   GET /api/v1/entities/{kind}/{id}  an entity's baseline per feature and open episodes
//   GET /api/v1/episodes[?status=open] every open episode (only open ones are kept:
//                                     any other status or parameter is a 400 saying so)
// Engines are read only on their own threads: the HTTP thread leaves a question in
// each engine's mailbox and waits; the scoring stage answers between messages (its
// loop wakes at least every 100 ms). No engine state is touched from the HTTP thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/Engine.hpp"
#include "transport/MetricsServer.hpp"

namespace flowlier::service {

// One engine's mailbox. ask() from any thread; serve() on the engine's thread.
class EngineQueries {
 public:
  using Question = std::function<std::vector<std::string>(const pipeline::Engine&)>;
  // The answer, or nullopt when the engine did not answer within `timeout`.
  std::optional<std::vector<std::string>> ask(Question question, std::chrono::milliseconds timeout);
  void serve(const pipeline::Engine& engine);
  // After the engine's thread stopped: questions are refused instead of waiting.
  void close();

 private:
  struct Pending {
    Question question;
    std::vector<std::string> answer;
    bool done = false;
  };
  std::mutex mutex_;
  std::condition_variable answered_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool closed_ = false;
};

// Answers /api/v1/... paths (`query`: the request's query string, still
// percent-encoded, "" when none); nullopt for any other path.
std::optional<transport::MetricsReply> entity_api_reply(std::string_view path, std::string_view query,
                                                        std::vector<std::unique_ptr<EngineQueries>>& engines);

}  // namespace flowlier::service
