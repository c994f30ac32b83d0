// Input of workload 16 (compile): an ordinary C++ translation unit that pulls
// in the common standard library headers and instantiates a few templates, so
// the compiler builds large ASTs, symbol tables and template instances.
#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace input {

using Value = std::variant<long, double, std::string, std::vector<long>>;

struct Entry {
  std::string name;
  Value value;
  std::set<std::string> tags;
};

template <typename Key, typename T>
std::map<Key, std::vector<T>> group_by(const std::vector<T>& items, std::function<Key(const T&)> key) {
  std::map<Key, std::vector<T>> groups;
  for (const T& item : items) groups[key(item)].push_back(item);
  return groups;
}

inline std::string describe(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        std::ostringstream out;
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<long>>) {
          out << "[" << std::accumulate(v.begin(), v.end(), 0L) << "]";
        } else {
          out << v;
        }
        return out.str();
      },
      value);
}

inline std::unordered_map<std::string, std::unique_ptr<Entry>> index(const std::vector<Entry>& entries) {
  std::unordered_map<std::string, std::unique_ptr<Entry>> result;
  std::regex pattern("^[a-z]+[0-9]*$");
  for (const Entry& entry : entries) {
    if (std::regex_match(entry.name, pattern)) result.emplace(entry.name, std::make_unique<Entry>(entry));
  }
  return result;
}

inline int run() {
  std::vector<Entry> entries{{"alpha1", 1L, {"a"}}, {"beta", 2.5, {"b", "c"}}, {"gamma", std::string("g"), {}}};
  auto groups = group_by<size_t, Entry>(entries, [](const Entry& e) { return e.tags.size(); });
  auto table = index(entries);
  for (const auto& [size, members] : groups) std::cout << size << ": " << members.size() << "\n";
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return static_cast<int>(table.size()) + static_cast<int>(describe(entries.front().value).size());
}

}  // namespace input

int main() { return input::run() == 0; }
