// Fuzzes spec::ParsePipeline on arbitrary text. A spec error must come back as a Status (SPEC.md
// §1: exit 2 with file, line and key), never as an exception, crash or hang; a spec that parses
// must be self-consistent enough for the engine to rely on it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "sluice/spec/pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto p = sluice::spec::ParsePipeline(text, "/fuzz/spec.yaml");
  if (!p.ok()) {
    if (p.status().message().empty()) sluice::fuzz::Fail("spec error without a message", text);
    return 0;
  }
  const auto& pipe = *p;
  if (pipe.schema.time_index() < 0) sluice::fuzz::Fail("parsed spec has no event-time field", text);
  if (pipe.schema.field(pipe.schema.time_index()).name != pipe.time_field)
    sluice::fuzz::Fail("schema's time field is not the spec's event_time.field", text);
  if (pipe.source.max_record_bytes <= 0)
    sluice::fuzz::Fail("non-positive max_record_bytes accepted", text);
  for (const auto& f : pipe.features) {
    if (pipe.FindFeature(f.name) < 0)
      sluice::fuzz::Fail("a parsed feature cannot be found by name", text);
    (void)pipe.Where(f.where);
  }
  return 0;
}
