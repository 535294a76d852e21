#include "sluice/monitor/metrics.h"

#include <cassert>
#include <cmath>

#include "sluice/core/number_format.h"

namespace sluice::monitor {
namespace {

void AtomicAdd(std::atomic<double>* a, double v) {
  double old = a->load(std::memory_order_relaxed);
  while (!a->compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

[[maybe_unused]] bool ValidName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  }
  return true;
}

// Label values escape backslash, double quote and newline (the exposition format's rules).
void AppendLabelValue(const std::string& v, std::string* out) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

void AppendLabels(const Labels& labels, const std::pair<std::string, std::string>* extra,
                  std::string* out) {
  if (labels.empty() && !extra) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out->push_back(',');
    first = false;
    out->append(k).append("=\"");
    AppendLabelValue(v, out);
    out->push_back('"');
  }
  if (extra) {
    if (!first) out->push_back(',');
    out->append(extra->first).append("=\"").append(extra->second).append("\"");
  }
  out->push_back('}');
}

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    core::AppendDouble(v, out);
  }
}

void AppendSample(const std::string& name, const Labels& labels,
                  const std::pair<std::string, std::string>* extra, double v, std::string* out) {
  out->append(name);
  AppendLabels(labels, extra, out);
  out->push_back(' ');
  AppendValue(v, out);
  out->push_back('\n');
}

void AppendHistogram(const std::string& name, const Labels& labels, const Histogram& h,
                     std::string* out) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds().size(); ++i) {
    cumulative += h.bucket(i);
    std::string le;
    AppendValue(h.bounds()[i], &le);
    const std::pair<std::string, std::string> extra{"le", le};
    AppendSample(name + "_bucket", labels, &extra, static_cast<double>(cumulative), out);
  }
  const uint64_t count = h.count();
  const std::pair<std::string, std::string> inf{"le", "+Inf"};
  AppendSample(name + "_bucket", labels, &inf, static_cast<double>(count), out);
  AppendSample(name + "_sum", labels, nullptr, h.sum(), out);
  AppendSample(name + "_count", labels, nullptr, static_cast<double>(count), out);
}

}  // namespace

void Counter::Inc(double v) { AtomicAdd(&value_, v); }
void Gauge::Add(double v) { AtomicAdd(&value_, v); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size())) {
  for (size_t i = 0; i < bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) { ObserveMany(v, 1); }

void Histogram::ObserveMany(double v, uint64_t count) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  if (i < bounds_.size()) counts_[i].fetch_add(count, std::memory_order_relaxed);
  count_.fetch_add(count, std::memory_order_relaxed);
  AtomicAdd(&sum_, v * static_cast<double>(count));
}

std::vector<double> LatencyBuckets() {
  return {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025,
          0.05, 0.1,    0.25, 0.5,  1,      2.5,    5,    10};
}

Registry::Family* Registry::FamilyOf(const std::string& name, const std::string& help, Type type) {
  assert(ValidName(name));
  auto [it, fresh] = families_.try_emplace(name);
  if (fresh) {
    it->second.type = type;
    it->second.help = help;
  }
  assert(it->second.type == type);
  return &it->second;
}

Counter* Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyOf(name, help, Type::kCounter)->counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyOf(name, help, Type::kGauge)->gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyOf(name, help, Type::kHistogram)->histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return slot.get();
}

std::string Registry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  static const char* kTypes[] = {"counter", "gauge", "histogram"};
  for (const auto& [name, f] : families_) {
    out.append("# HELP ").append(name).append(" ").append(f.help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(kTypes[static_cast<int>(f.type)]);
    out.push_back('\n');
    for (const auto& [labels, c] : f.counters) AppendSample(name, labels, nullptr, c->value(), &out);
    for (const auto& [labels, g] : f.gauges) AppendSample(name, labels, nullptr, g->value(), &out);
    for (const auto& [labels, h] : f.histograms) AppendHistogram(name, labels, *h, &out);
  }
  return out;
}

}  // namespace sluice::monitor
