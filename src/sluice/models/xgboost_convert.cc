#include "sluice/models/xgboost_convert.h"

#include <xgboost/c_api.h>

#include <memory>

namespace sluice::models {

namespace {

struct BoosterFree {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using BoosterPtr = std::unique_ptr<void, BoosterFree>;

core::Status XgbError(const char* what) {
  return core::Status::InvalidArgument(std::string(what) + ": " + XGBGetLastError());
}

}  // namespace

core::Result<std::string> ConvertToJson(const std::string& path) {
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(nullptr, 0, &raw) != 0) return XgbError("libxgboost cannot create a booster");
  BoosterPtr booster(raw);
  if (XGBoosterLoadModel(raw, path.c_str()) != 0)
    return XgbError("neither XGBoost JSON nor a model libxgboost can read");
  bst_ulong len = 0;
  const char* out = nullptr;
  if (XGBoosterSaveModelToBuffer(raw, R"({"format": "json"})", &len, &out) != 0)
    return XgbError("libxgboost cannot write the model as JSON");
  return std::string(out, len);
}

}  // namespace sluice::models
