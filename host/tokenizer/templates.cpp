#include "tokenizer/templates.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <string>

namespace petlab::tok {

using Kind = Template::Item::Kind;

Template Template::none() { return Template({{Kind::A, {}, 0}}, {{Kind::A, {}, 0}, {Kind::B, {}, 1}}); }

Template Template::bert(int64_t cls, int64_t sep) {
  return Template({{Kind::Special, {cls}, 0}, {Kind::A, {}, 0}, {Kind::Special, {sep}, 0}},
                  {{Kind::Special, {cls}, 0}, {Kind::A, {}, 0}, {Kind::Special, {sep}, 0}, {Kind::B, {}, 1},
                   {Kind::Special, {sep}, 1}});
}

Template Template::roberta(int64_t cls, int64_t sep) {
  return Template({{Kind::Special, {cls}, 0}, {Kind::A, {}, 0}, {Kind::Special, {sep}, 0}},
                  {{Kind::Special, {cls}, 0}, {Kind::A, {}, 0}, {Kind::Special, {sep, sep}, 0}, {Kind::B, {}, 0},
                   {Kind::Special, {sep}, 0}});
}

Template Template::t5(int64_t eos) {
  return Template({{Kind::A, {}, 0}, {Kind::Special, {eos}, 0}},
                  {{Kind::A, {}, 0}, {Kind::Special, {eos}, 0}, {Kind::B, {}, 0}, {Kind::Special, {eos}, 0}});
}

size_t Template::added_tokens(bool pair) const {
  size_t n = 0;
  for (const auto& item : pair ? pair_ : single_)
    if (item.kind == Kind::Special) n += item.ids.size();
  return n;
}

void truncate_longest_first(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t budget) {
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= budget) return;
  if (!b) {
    a.resize(budget);
    return;
  }
  // HF: give the shorter sequence what it needs up to half the budget, the longer one the rest; when
  // both are too long, split the budget evenly with the odd id going to the (originally) longer one.
  size_t n1 = a.size(), n2 = b->size();
  const bool swapped = n1 > n2;
  if (swapped) std::swap(n1, n2);
  n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
  if (n1 + n2 > budget) {
    n1 = budget / 2;
    n2 = n1 + budget % 2;
  }
  if (swapped) std::swap(n1, n2);
  a.resize(std::min(a.size(), n1));
  b->resize(std::min(b->size(), n2));
}

void Template::truncate(std::vector<int64_t>& a, std::vector<int64_t>* b, size_t max_length) const {
  if (max_length == 0) return;
  const size_t added = added_tokens(b != nullptr);
  if (max_length < added)
    throw Error("max_length " + std::to_string(max_length) + " is smaller than the " + std::to_string(added) +
                " special tokens " + (b ? "a pair of texts" : "one text") + " needs");
  truncate_longest_first(a, b, max_length - added);
}

Encoding Template::apply(const std::vector<int64_t>& a, const std::vector<int64_t>* b) const {
  Encoding e;
  const auto push = [&](const std::vector<int64_t>& ids, int64_t type) {
    e.ids.insert(e.ids.end(), ids.begin(), ids.end());
    e.type_ids.insert(e.type_ids.end(), ids.size(), type);
  };
  for (const auto& item : b ? pair_ : single_) {
    switch (item.kind) {
      case Kind::A: push(a, item.type_id); break;
      case Kind::B: push(*b, item.type_id); break;
      case Kind::Special: push(item.ids, item.type_id); break;
    }
  }
  return e;
}

}  // namespace petlab::tok
