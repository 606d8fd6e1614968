// The in-memory example every task produces, whatever its file format. One struct serves the encoder
// formats (classification, regression, multiple choice, candidate ranking, span pairs) and T5's
// text-to-text form (Task::to_text renders it with the task's template and label words).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace petlab::tasks {

/// How an encoder consumes a task (T5 uses text-to-text for every task).
enum class Format { classification, regression, multiple_choice, candidate_ranking, span_pair, generation };
const char* to_string(Format f);

/// A marked stretch of an input text: WSC's noun phrase and pronoun (word index), WiC's target word
/// (character offsets into its sentence).
struct Span {
  std::string text;
  std::size_t segment = 0;  ///< which of Example::texts the span is in
  long long begin = -1;     ///< WSC: word index; WiC: first character (code points)
  long long end = -1;       ///< WiC: one past the last character; WSC: -1
};

struct Example {
  std::string id;                    ///< unique within its file; predictions refer to it
  std::vector<std::string> texts;    ///< input segments, named by TaskInfo::text_fields
  int label = -1;                    ///< class index / index of the right choice; -1 = unlabelled
  double target = std::numeric_limits<double>::quiet_NaN();  ///< regression target (STS-B)
  std::vector<std::string> choices;  ///< COPA's alternatives, ReCoRD's candidate entities
  std::vector<std::string> answers;  ///< ReCoRD gold answers; generation references (E2E: all of them)
  std::vector<Span> spans;           ///< WSC span1/span2, WiC word in sentence1/sentence2
  std::string group;                 ///< MultiRC question, ReCoRD passage: kept together by splits

  bool labelled() const { return label >= 0 || !std::isnan(target) || !answers.empty(); }
};

/// T5's view of an example: the prompt and the target text (a label word, a number, an answer, a summary).
struct TextToText {
  std::string source;
  std::string target;
};

}  // namespace petlab::tasks
