// Readers on fixture files written here in the exact distribution formats, awkward parts included
// (BOM, CRLF, quotes, empty lines, nested JSON), and bad inputs with the message each must give.
#include "task_files.hpp"

#include "petlab/tasks/readers.hpp"
#include "petlab/tasks/registry.hpp"

#include <doctest/doctest.h>

using petlab::testing::TempDir;
using namespace petlab::tasks;

namespace {

std::vector<Example> read(const std::string& task, const std::filesystem::path& file) {
  return TaskRegistry::builtin().get(task).read(file);
}

// The message a read fails with ("" when it does not fail).
std::string error_of(const std::string& task, const std::filesystem::path& file) {
  try {
    read(task, file);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("every task id of the issue is registered once") {
  const std::vector<std::string> ids = {
      "glue/cola", "glue/sst2", "glue/mrpc", "glue/qqp", "glue/stsb", "glue/mnli", "glue/mnli-mm", "glue/qnli",
      "glue/rte", "glue/wnli", "superglue/boolq", "superglue/cb", "superglue/copa", "superglue/multirc",
      "superglue/record", "superglue/rte", "superglue/wic", "superglue/wsc", "superglue/axb", "superglue/axg",
      "e2e", "samsum", "agnews"};
  const auto& registry = TaskRegistry::builtin();
  CHECK(registry.all().size() == ids.size());
  for (const auto& id : ids) CHECK_MESSAGE(registry.find(id) != nullptr, id);
  CHECK_THROWS_WITH_AS(registry.get("glue/nope"), doctest::Contains("known tasks: glue/cola"), DataError);
}

TEST_CASE("CoLA: header-less TSV with CRLF line ends and empty lines, its test file has a header") {
  TempDir dir("cola");
  const auto train = dir.write("train.tsv", "gj04\t1\t\tOur friends won't buy this analysis.\r\n\r\n"
                                            "gj04\t0\t*\tThey drank the pub \"dry\".\r\n");
  const auto ex = read("glue/cola", train);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].id == "0");
  CHECK(ex[0].label == 1);
  CHECK(ex[0].texts == std::vector<std::string>{"Our friends won't buy this analysis."});
  CHECK(ex[1].label == 0);
  CHECK(ex[1].texts[0] == "They drank the pub \"dry\".");  // GLUE TSV is unquoted: quotes are text
  const auto test = dir.write("test.tsv", "index\tsentence\n0\tBill left.\n1\tLeft Bill.\n");
  const auto t = read("glue/cola", test);
  REQUIRE(t.size() == 2);
  CHECK(t[1].id == "1");
  CHECK_FALSE(t[1].labelled());
}

TEST_CASE("MRPC: the MSR format with its byte-order mark and named columns") {
  TempDir dir("mrpc");
  const auto f = dir.write("train.tsv", "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                                        "1\t702876\t702977\tAmrozi accused his brother.\tReferring to him, Amrozi said \"brother\".\n"
                                        "0\t2108705\t2108831\tYucaipa owned Dominick's.\tYucaipa bought Dominick's in 1995.\n");
  const auto ex = read("glue/mrpc", f);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].label == 1);
  CHECK(ex[0].texts[1] == "Referring to him, Amrozi said \"brother\".");
  CHECK(ex[1].label == 0);
  CHECK(ex[1].id == "1");
}

TEST_CASE("MNLI: 12 columns read by name, matched and mismatched dev files") {
  TempDir dir("mnli");
  const std::string header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                             "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
  dir.write("dev_matched.tsv", header + "0\t\t\t\t\t\t\t\tSalt kept the town fed.\tSalt kept it thriving.\tentailment\tentailment\n");
  dir.write("dev_mismatched.tsv", header + "7\t\t\t\t\t\t\t\tA man sleeps.\tA man runs.\tcontradiction\tcontradiction\n");
  const auto m = read("glue/mnli", dir.path() / "dev_matched.tsv");
  REQUIRE(m.size() == 1);
  CHECK(m[0].texts == std::vector<std::string>{"Salt kept the town fed.", "Salt kept it thriving."});
  CHECK(m[0].label == 0);
  const auto& mm = TaskRegistry::builtin().get("glue/mnli-mm");
  CHECK(mm.info.files_for(OfficialSplit::dev).front() == "dev_mismatched.tsv");
  const auto x = mm.read(dir.path() / "dev_mismatched.tsv");
  CHECK(x[0].label == 2);
  CHECK(x[0].id == "7");
}

TEST_CASE("STS-B: scores read as regression targets, T5 targets round to 0.2") {
  TempDir dir("stsb");
  const auto f = dir.write("dev.tsv", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                                      "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man plays.\tA man is playing.\t3.85\n");
  const auto& task = TaskRegistry::builtin().get("glue/stsb");
  const auto ex = task.read(f);
  REQUIRE(ex.size() == 1);
  CHECK(ex[0].target == doctest::Approx(3.85));
  CHECK(task.to_text(ex[0]).target == "3.8");
  CHECK(task.to_text(ex[0]).source == "stsb sentence1: A man plays. sentence2: A man is playing.");
  const auto bad = dir.write("bad.tsv", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                                        "0\tg\tf\ty\to\ts\ts\ta\tb\tfive\n");
  CHECK(contains(error_of("glue/stsb", bad), "bad.tsv:2: column 'score' should be a number, found 'five'"));
}

TEST_CASE("GLUE TSV bad inputs name file, line and what was expected") {
  TempDir dir("glue-bad");
  const auto cols = dir.write("cols.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n\n1\tonly two\tcolumns\n");
  CHECK(contains(error_of("glue/rte", cols),
                 "cols.tsv:4: expected 4 tab-separated columns (index, sentence1, sentence2, label), found 3"));
  const auto label = dir.write("label.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n");
  CHECK(contains(error_of("glue/rte", label),
                 "label.tsv:2: unknown 'label' value 'maybe' (expected one of 'entailment', 'not_entailment')"));
  const auto empty = dir.write("empty.tsv", "\r\n\n");
  CHECK(contains(error_of("glue/rte", empty), "empty.tsv: the file is empty"));
  const auto utf8 = dir.write("utf8.tsv", "index\tsentence1\tsentence2\tlabel\n0\tcaf\xE9\tb\tentailment\n");
  CHECK(contains(error_of("glue/rte", utf8), "utf8.tsv:2: invalid UTF-8 at byte column 6 (byte 0xe9)"));
  const auto column = dir.write("column.tsv", "index\tpremise\thypothesis\tlabel\n0\ta\tb\tentailment\n");
  CHECK(contains(error_of("glue/rte", column), "missing column 'sentence1' (the header has: index, premise, hypothesis, label)"));
  const auto dup = dir.write("dup.tsv", "index\tsentence1\tsentence2\tlabel\n5\ta\tb\tentailment\n5\tc\td\tentailment\n");
  CHECK(contains(error_of("glue/rte", dup), "dup.tsv:3: duplicate id '5' (first at line 2)"));
  CHECK(contains(error_of("glue/rte", dir.path() / "absent.tsv"), "absent.tsv: no such file"));
}

TEST_CASE("HF datasets JSONL exports of GLUE: field names, idx ids, label -1 for unlabelled") {
  TempDir dir("glue-hf");
  const auto f = dir.write("validation.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": 2, \"idx\": 0}\n"
                                               "{\"premise\": \"p2\", \"hypothesis\": \"h2\", \"label\": -1, \"idx\": 1}\n");
  const auto ex = read("glue/mnli", f);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].label == 2);
  CHECK(ex[1].id == "1");
  CHECK_FALSE(ex[1].labelled());
  const auto bad = dir.write("bad.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": 3, \"idx\": 0}\n");
  CHECK(contains(error_of("glue/mnli", bad), "bad.jsonl:1: label 3 is out of range (expected -1 for unlabelled or 0..2)"));
}

TEST_CASE("MultiRC: nested passages, questions and answers become one example per answer, grouped by question") {
  TempDir dir("multirc");
  const auto f = dir.write("val.jsonl",
      R"({"idx": 0, "version": 1.1, "passage": {"text": "Forces move things.", "questions": [)"
      R"({"question": "What moves things?", "idx": 0, "answers": [{"text": "Forces", "idx": 0, "label": 1}, {"text": "Nothing", "idx": 1, "label": 0}]},)"
      R"({"question": "Is it so?", "idx": 1, "answers": [{"text": "Yes", "idx": 2, "label": 1}]}]}})"
      "\n");
  const auto ex = read("superglue/multirc", f);
  REQUIRE(ex.size() == 3);
  CHECK(ex[0].id == "0-0-0");
  CHECK(ex[1].id == "0-0-1");
  CHECK(ex[2].id == "0-1-2");
  CHECK(ex[0].group == ex[1].group);
  CHECK(ex[0].group != ex[2].group);
  CHECK(ex[0].texts == std::vector<std::string>{"Forces move things.", "What moves things?", "Forces"});
  CHECK(ex[1].label == 0);
  // The HF export: one flat record per answer with nested idx.
  const auto hf = dir.write("validation.jsonl",
      R"({"paragraph": "P", "question": "Q", "answer": "A", "idx": {"paragraph": 3, "question": 4, "answer": 5}, "label": 1})"
      "\n");
  const auto h = read("superglue/multirc", hf);
  REQUIRE(h.size() == 1);
  CHECK(h[0].id == "3-4-5");
  CHECK(h[0].group == "3-4");
  const auto missing = dir.write("missing.jsonl", "{\"idx\": 0, \"passage\": {\"questions\": []}}\n");
  CHECK(contains(error_of("superglue/multirc", missing), "missing.jsonl:1: missing key \"text\""));
}

TEST_CASE("ReCoRD: entities sliced by inclusive character offsets (unicode-safe), answers de-duplicated") {
  TempDir dir("record");
  // "Zürich" has a 2-byte character: offsets count characters, not bytes.
  const auto f = dir.write("dev32.jsonl",
      R"({"source": "CNN", "idx": 9, "passage": {"text": "Zürich beat Basel. @highlight\nBasel lost", "entities": [{"start": 0, "end": 5}, {"start": 12, "end": 16}, {"start": 30, "end": 34}]},)"
      R"( "qas": [{"query": "@placeholder won", "idx": 4, "answers": [{"start": 0, "end": 5, "text": "Zürich"}]}]})"
      "\n");
  const auto ex = read("superglue/record", f);
  REQUIRE(ex.size() == 1);
  CHECK(ex[0].id == "9-4");
  CHECK(ex[0].group == "9");
  CHECK(ex[0].choices == std::vector<std::string>{"Zürich", "Basel"});
  CHECK(ex[0].answers == std::vector<std::string>{"Zürich"});
  const auto bad = dir.write("bad.jsonl",
      R"({"idx": 1, "passage": {"text": "short", "entities": [{"start": 2, "end": 40}]}, "qas": []})"
      "\n");
  CHECK(contains(error_of("superglue/record", bad), "bad.jsonl:1: entity offsets [2, 41) are outside the text (5 characters)"));
}

TEST_CASE("WSC spans, WiC offsets, COPA choices and CB label names") {
  TempDir dir("sg");
  const auto wsc = dir.write("wsc.jsonl",
      R"({"text": "Mark told Pete he was late.", "target": {"span1_index": 0, "span1_text": "Mark", "span2_index": 3, "span2_text": "he"}, "idx": 0, "label": true})"
      "\n");
  const auto w = read("superglue/wsc", wsc);
  REQUIRE(w[0].spans.size() == 2);
  CHECK(w[0].spans[1].text == "he");
  CHECK(w[0].spans[1].begin == 3);
  CHECK(w[0].label == 1);
  const auto wic = dir.write("wic.jsonl",
      R"({"word": "class", "sentence1": "A new class.", "sentence2": "Real class.", "idx": 0, "label": false, "start1": 6, "start2": 5, "end1": 11, "end2": 10, "version": 1.1})"
      "\n");
  const auto c = read("superglue/wic", wic);
  CHECK(c[0].spans[0].text == "class");
  CHECK(c[0].spans[1].text == "class");
  CHECK(c[0].label == 0);
  const auto copa = dir.write("copa.jsonl",
      R"({"premise": "It rained.", "choice1": "I got wet.", "choice2": "I got dry.", "question": "effect", "label": 0, "idx": 3})"
      "\n");
  const auto& copa_task = TaskRegistry::builtin().get("superglue/copa");
  const auto p = copa_task.read(copa);
  CHECK(p[0].choices == std::vector<std::string>{"I got wet.", "I got dry."});
  CHECK(copa_task.to_text(p[0]).target == "choice1");
  CHECK(copa_task.info.format == Format::multiple_choice);
  const auto cb = dir.write("cb.jsonl", R"({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 1})" "\n"
                                        R"({"premise": "p", "hypothesis": "h", "label": "unsure", "idx": 2})" "\n");
  CHECK(contains(error_of("superglue/cb", cb),
                 "cb.jsonl:2: unknown \"label\" value 'unsure' (expected one of 'entailment', 'contradiction', 'neutral')"));
  const auto malformed = dir.write("m.jsonl", R"({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 1})" "\n"
                                              "{\"premise\": \"p\", \"hypothesis\": }\n");
  CHECK(contains(error_of("superglue/cb", malformed), "m.jsonl:2: malformed JSON"));
  const auto dup = dir.write("d.jsonl", R"({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 1})" "\n"
                                        R"({"premise": "p", "hypothesis": "h", "label": "neutral", "idx": 1})" "\n");
  CHECK(contains(error_of("superglue/cb", dup), "d.jsonl:2: duplicate id '1' (first at line 1)"));
}

TEST_CASE("E2E CSV: quoted fields with commas and doubled quotes, CRLF, BOM, references grouped per MR") {
  TempDir dir("e2e");
  const auto f = dir.write("devset.csv",
      "\xEF\xBB\xBFmr,ref\r\n"
      "\"name[Alimentum], area[city centre]\",\"Alimentum, in the city centre, is \"\"fine\"\".\"\r\n"
      "\"name[Alimentum], area[city centre]\",There is Alimentum.\r\n"
      "\r\n"
      "\"name[Aromi], eatType[pub]\",\"Aromi is a pub\r\nwith two lines.\"\r\n");
  const auto ex = read("e2e", f);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].texts[0] == "name[Alimentum], area[city centre]");
  CHECK(ex[0].answers == std::vector<std::string>{"Alimentum, in the city centre, is \"fine\".", "There is Alimentum."});
  CHECK(ex[1].answers == std::vector<std::string>{"Aromi is a pub\nwith two lines."});
  CHECK(TaskRegistry::builtin().get("e2e").count_records(f) == 3);
  const auto open = dir.write("open.csv", "mr,ref\n\"name[X]\",\"never closed\nstill open\n");
  CHECK(contains(error_of("e2e", open), "open.csv:2: unterminated quoted field"));
  const auto cols = dir.write("cols.csv", "mr,ref\n\"name[X]\",a,b\n");
  CHECK(contains(error_of("e2e", cols), "cols.csv:2: expected 2 comma-separated columns, found 3"));
}

TEST_CASE("SAMSum JSON list with multi-line dialogues, malformed JSON names its line") {
  TempDir dir("samsum");
  const auto f = dir.write("val.json",
      "[\n {\n  \"id\": \"val-0000\",\n  \"summary\": \"A gets a puppy.\",\n  \"dialogue\": \"A: Hi Tom\\nB: Hi!\"\n },\n"
      " {\n  \"id\": \"val-0001\",\n  \"summary\": \"B is late.\",\n  \"dialogue\": \"B: late \\\"again\\\"\"\n }\n]\n");
  const auto ex = read("samsum", f);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].texts[0] == "A: Hi Tom\nB: Hi!");
  CHECK(ex[1].texts[0] == "B: late \"again\"");
  CHECK(ex[1].answers == std::vector<std::string>{"B is late."});
  const auto bad = dir.write("bad.json", "[\n {\"id\": \"a\",\n  \"summary\": \"s\"\n  \"dialogue\": \"d\"}\n]\n");
  CHECK(contains(error_of("samsum", bad), "bad.json:4: malformed JSON"));
  const auto missing = dir.write("missing.json", "[\n {\"id\": \"a\", \"summary\": \"s\"}\n]\n");
  CHECK(contains(error_of("samsum", missing), "missing.json:2: missing key \"dialogue\""));
}

TEST_CASE("AG News CSV: no header, classes 1-4, escaped quotes, a bad class lists the expected ones") {
  TempDir dir("agnews");
  const auto f = dir.write("train.csv",
      "\"3\",\"Wall St. Bears Claw Back (Reuters)\",\"Reuters - Short-sellers, \"\"ultra-cynics\"\", are back.\"\n"
      "\"2\",\"Sox win\",\"A \\\\ backslash stays.\"\n");
  const auto& task = TaskRegistry::builtin().get("agnews");
  const auto ex = task.read(f);
  REQUIRE(ex.size() == 2);
  CHECK(ex[0].label == 2);
  CHECK(ex[0].texts[1] == "Reuters - Short-sellers, \"ultra-cynics\", are back.");
  CHECK(task.to_text(ex[1]).target == "Sports");
  const auto bad = dir.write("bad.csv", "\"5\",\"t\",\"d\"\n");
  CHECK(contains(error_of("agnews", bad), "bad.csv:1: unknown class value '5' (expected one of '1', '2', '3', '4')"));
}

TEST_CASE("T5 text-to-text renders templates with label words") {
  TempDir dir("t5");
  const auto f = dir.write("dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA cat sat.\tA cat is sitting.\tentailment\n");
  const auto& rte = TaskRegistry::builtin().get("glue/rte");
  const auto t = rte.to_text(rte.read(f)[0]);
  CHECK(t.source == "rte sentence1: A cat sat. sentence2: A cat is sitting.");
  CHECK(t.target == "entailment");
}
