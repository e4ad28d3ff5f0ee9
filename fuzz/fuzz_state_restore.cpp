// libFuzzer target: Engine::restore on hostile bytes. It must fail with a message
// (never crash, throw or allocate without bound) and leave the engine usable.
//
// Inputs starting with 'P' are an engine payload: the harness frames the rest as a
// valid "engine" record (tag, version, length, FNV-1a checksum), so the fuzzer gets
// past the checksum into the payload parser. Other inputs go to restore() as they are.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "detectors/StateIo.hpp"
#include "pipeline/Engine.hpp"

namespace {
template <class T>
void append(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

std::string frame_engine_payload(std::string_view payload) {
  constexpr std::string_view tag = "engine";
  std::string framed;
  append(framed, static_cast<std::uint16_t>(tag.size()));
  framed.append(tag);
  append(framed, flowlier::pipeline::Engine::kStateVersion);
  append(framed, static_cast<std::uint64_t>(payload.size()));
  framed.append(payload);
  append(framed, flowlier::detectors::fnv1a64(framed));
  return framed;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowlier::pipeline;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string state = !bytes.empty() && bytes[0] == 'P' ? frame_engine_payload(bytes.substr(1)) : std::string(bytes);
  Engine engine({});
  std::istringstream in(state);
  auto error = engine.restore(in);
  // Whatever restore did, the engine must still save and flush.
  std::ostringstream out;
  engine.save(out);
  engine.flush();
  volatile std::size_t keep = error.size() + out.str().size() + engine.take_events().size();
  (void)keep;
  return 0;
}
