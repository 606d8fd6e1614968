#include "backbone/architectures.hpp"
#include "backbone/device.hpp"
#include "core/error.hpp"

#include <fmt/format.h>

namespace petlab {

std::shared_ptr<Backbone> load_backbone(const std::filesystem::path& dir, const LoadOptions& options) {
  const c10::Device device = parse_device(options.device);
  parse_precision(options.dtype, device);  // validate early: a bad dtype should not cost a load
  const ModelConfig config = read_model_config(dir);

  using Factory = std::shared_ptr<Backbone> (*)(const ModelConfig&, const Checkpoint&);
  Factory make = nullptr;
  if (config.model_type == "bert" || config.model_type == "roberta") make = &make_bert;
  if (config.model_type == "t5") make = &make_t5;
  if (make == nullptr)
    throw Error(fmt::format("'{}': model_type '{}' is not supported; supported: {}", (dir / "config.json").string(),
                            config.model_type, kSupportedModelTypes));

  auto model = make(config, Checkpoint(dir));
  model->eval();
  if (!device.is_cpu()) model->to(device);
  return model;
}

}  // namespace petlab
