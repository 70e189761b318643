// Metric math from hand-computed cases, thread-count independence of scoring, exact
// reduction over 1-4 in-process ranks, point-to-point transfers of the local communicator,
// the CSV prediction format and the --stdin stream reader.
#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <numeric>
#include <sstream>

#include "dptrain/error.hpp"
#include "dptrain/evaluation.hpp"
#include "dptrain/prediction.hpp"
#include "dptrain/shard.hpp"

namespace dptrain {
namespace {

ModelSpec softmax_spec(std::int64_t features, std::int64_t classes) {
  return make_model_spec("softmax", features, classes, LossKind::SoftmaxCrossEntropy,
                         Activation::ReLU);
}

TEST(Metrics, ClassifierFromHandCountedConfusion) {
  // 3 classes; outputs are one-hot-ish probability rows; truth and prediction per row:
  //   (0,0) (0,0) (0,1) (1,1) (1,2) (2,2) (2,2) (2,2) (2,0)
  const ModelSpec spec = softmax_spec(2, 3);
  const std::vector<std::pair<int, int>> rows = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 2},
                                                 {2, 2}, {2, 2}, {2, 2}, {2, 0}};
  std::vector<float> outputs, labels;
  for (auto [truth, predicted] : rows) {
    for (int c = 0; c < 3; ++c) outputs.push_back(c == predicted ? 0.8f : 0.1f);
    labels.push_back(static_cast<float>(truth));
  }
  MetricSums sums(spec);
  sums.add_rows(spec, outputs.data(), labels.data(), 9, 4.5);
  const Metrics m = finish_metrics(sums);
  ASSERT_TRUE(m.classifier);
  EXPECT_EQ(m.confusion, (std::vector<std::int64_t>{2, 1, 0, 0, 1, 1, 1, 0, 3}));
  EXPECT_DOUBLE_EQ(m.accuracy, 6.0 / 9.0);
  EXPECT_DOUBLE_EQ(m.loss, 0.5);
  // class 0: tp 2, predicted 3, true 3; class 1: tp 1, predicted 2, true 2;
  // class 2: tp 3, predicted 4, true 4.
  EXPECT_DOUBLE_EQ(m.precision[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.recall[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(m.recall[1], 0.5);
  EXPECT_DOUBLE_EQ(m.precision[2], 0.75);
  EXPECT_DOUBLE_EQ(m.recall[2], 0.75);
  EXPECT_DOUBLE_EQ(m.f1[2], 0.75);
  EXPECT_EQ(m.support, (std::vector<double>{3, 2, 4}));
  EXPECT_DOUBLE_EQ(m.macro_f1, (2.0 / 3.0 + 0.5 + 0.75) / 3.0);
}

TEST(Metrics, ClassNeverPredictedHasZeroPrecisionAndF1) {
  const ModelSpec spec = softmax_spec(2, 3);
  const std::vector<float> outputs = {0.9f, 0.05f, 0.05f, 0.9f, 0.05f, 0.05f};
  const std::vector<float> labels = {0, 2};
  MetricSums sums(spec);
  sums.add_rows(spec, outputs.data(), labels.data(), 2, 0);
  const Metrics m = finish_metrics(sums);
  EXPECT_EQ(m.precision[1], 0.0);  // class 1: never true, never predicted
  EXPECT_EQ(m.recall[1], 0.0);
  EXPECT_EQ(m.precision[2], 0.0);  // class 2: true once, never predicted
  EXPECT_EQ(m.f1[2], 0.0);
  EXPECT_DOUBLE_EQ(m.precision[0], 0.5);
}

TEST(Metrics, LogisticPredictsOneAboveHalf) {
  const ModelSpec spec = make_model_spec("logistic", 3, 1, LossKind::BinaryCrossEntropy,
                                         Activation::ReLU);
  const float above = 0.5001f, half = 0.5f;
  EXPECT_EQ(predicted_class(spec, &above), 1);
  EXPECT_EQ(predicted_class(spec, &half), 0);
  float p[2];
  class_probabilities(spec, &above, p);
  EXPECT_FLOAT_EQ(p[0], 1.0f - above);
  EXPECT_FLOAT_EQ(p[1], above);
}

TEST(Metrics, RegressionMseMaeR2) {
  // Two targets. Target 0: y = 1,2,3,4, prediction 1.5,2,2.5,4.5 -> errors .5,0,-.5,.5.
  // Target 1: y constant 2 and predicted exactly -> R^2 = 1 by convention.
  const ModelSpec spec = make_model_spec("linear", 3, 2, LossKind::MeanSquaredError, Activation::ReLU);
  const std::vector<float> outputs = {1.5f, 2, 2, 2, 2.5f, 2, 4.5f, 2};
  const std::vector<float> labels = {1, 2, 2, 2, 3, 2, 4, 2};
  MetricSums sums(spec);
  sums.add_rows(spec, outputs.data(), labels.data(), 4, 0);
  const Metrics m = finish_metrics(sums);
  ASSERT_FALSE(m.classifier);
  EXPECT_DOUBLE_EQ(m.target_mse[0], 0.75 / 4);
  EXPECT_DOUBLE_EQ(m.target_mae[0], 1.5 / 4);
  EXPECT_DOUBLE_EQ(m.target_r2[0], 1.0 - 0.75 / 5.0);  // total sum of squares: 5
  EXPECT_DOUBLE_EQ(m.target_r2[1], 1.0);
  EXPECT_DOUBLE_EQ(m.mse, 0.75 / 8);
  EXPECT_DOUBLE_EQ(m.r2, (1.0 - 0.75 / 5.0 + 1.0) / 2);
  // A constant target predicted wrongly has R^2 0, not -inf.
  std::vector<float> off = outputs;
  off[1] = 3;
  MetricSums wrong(spec);
  wrong.add_rows(spec, off.data(), labels.data(), 4, 0);
  EXPECT_EQ(finish_metrics(wrong).target_r2[1], 0.0);
}

TEST(Metrics, JsonAndTableNameTheMetrics) {
  const ModelSpec spec = softmax_spec(2, 2);
  const std::vector<float> outputs = {0.9f, 0.1f, 0.2f, 0.8f};
  const std::vector<float> labels = {0, 0};
  MetricSums sums(spec);
  sums.add_rows(spec, outputs.data(), labels.data(), 2, 1.0);
  const Metrics m = finish_metrics(sums);
  const std::string json = to_json(m);
  EXPECT_NE(json.find("\"accuracy\": 0.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"confusion\": [[1, 1], [0, 0]]"), std::string::npos) << json;
  const std::string table = format_table(m);
  EXPECT_NE(table.find("accuracy  0.5000  (1/2)"), std::string::npos) << table;
  EXPECT_NE(table.find("confusion matrix"), std::string::npos) << table;
}

// A small random MLP classifier and data with labels from a few classes.
struct Problem {
  ModelSpec spec = make_model_spec("mlp:7,5", 6, 3, LossKind::SoftmaxCrossEntropy, Activation::Tanh);
  AlignedVector<float> params = initial_parameters(spec, 11);
  std::int64_t rows = 2500;
  std::vector<float> x, y;
  Problem() {
    Random rng(5);
    for (auto& p : params) p += static_cast<float>(0.1 * rng.normal());
    for (std::int64_t i = 0; i < rows * 6; ++i) x.push_back(static_cast<float>(rng.normal()));
    for (std::int64_t i = 0; i < rows; ++i) y.push_back(static_cast<float>(rng.below(3)));
  }
};

TEST(Scorer, ResultsDoNotDependOnThreadCount) {
  Problem p;
  std::vector<float> reference(static_cast<std::size_t>(p.rows * 3)), outputs(reference.size());
  Scorer one(p.spec, p.params, 1, 100);
  const std::vector<double> sums1 = one.evaluate(p.x.data(), p.y.data(), p.rows, reference.data()).flatten();
  for (int threads : {2, 3, 4}) {
    Scorer many(p.spec, p.params, threads, 100);
    EXPECT_EQ(many.evaluate(p.x.data(), p.y.data(), p.rows, outputs.data()).flatten(), sums1)
        << threads << " threads";
    EXPECT_EQ(outputs, reference) << threads << " threads";
    std::fill(outputs.begin(), outputs.end(), 0.0f);
    many.score(p.x.data(), p.rows, outputs.data());
    EXPECT_EQ(outputs, reference) << threads << " threads (score)";
  }
  // The loss is the mean cross-entropy of the probabilities.
  double loss = 0;
  for (std::int64_t r = 0; r < p.rows; ++r)
    loss -= std::log(static_cast<double>(reference[static_cast<std::size_t>(r * 3 + static_cast<int>(p.y[r]))]));
  EXPECT_NEAR(sums1[1], loss, 1e-9 * loss);
}

TEST(Scorer, RanksReduceToTheSingleProcessMetrics) {
  Problem p;
  std::vector<float> outputs(static_cast<std::size_t>(p.rows * 3));
  Scorer whole(p.spec, p.params, 1);
  const Metrics reference = finish_metrics(whole.evaluate(p.x.data(), p.y.data(), p.rows, outputs.data()));
  for (int size = 1; size <= 4; ++size) {
    std::vector<Metrics> results(static_cast<std::size_t>(size));
    run_local_ranks(size, [&](Communicator& comm) {
      const ShardRange mine = shard_range(p.rows, comm.size(), comm.rank());
      Scorer scorer(p.spec, p.params, 2);
      std::vector<float> out(static_cast<std::size_t>(mine.size() * 3));
      MetricSums sums = scorer.evaluate(p.x.data() + mine.begin * 6, p.y.data() + mine.begin,
                                        mine.size(), out.data());
      allreduce_metrics(comm, sums);
      results[static_cast<std::size_t>(comm.rank())] = finish_metrics(sums);
    });
    for (const Metrics& m : results) {
      EXPECT_EQ(m.confusion, reference.confusion) << size << " ranks";
      EXPECT_EQ(m.rows, reference.rows);
      EXPECT_EQ(m.accuracy, reference.accuracy);
      // Shard boundaries cut the GEMM blocks differently, which moves float outputs by ulps.
      EXPECT_NEAR(m.loss, reference.loss, 1e-7 * reference.loss) << size << " ranks";
    }
  }
}

TEST(Scorer, RegressionSumsReduceExactlyEnoughForR2) {
  const ModelSpec spec = make_model_spec("linear", 4, 2, LossKind::MeanSquaredError, Activation::ReLU);
  AlignedVector<float> params(spec.num_params());
  Random rng(3);
  for (auto& v : params) v = static_cast<float>(rng.normal());
  params[spec.bias_offset(0)] = 100;  // targets far from 0 stress the sum-of-squares form of R^2
  const std::int64_t rows = 1001;
  std::vector<float> x, y(static_cast<std::size_t>(rows * 2));
  for (std::int64_t i = 0; i < rows * 4; ++i) x.push_back(static_cast<float>(rng.normal()));
  Scorer whole(spec, params, 1);
  whole.score(x.data(), rows, y.data());
  for (auto& v : y) v += static_cast<float>(0.5 * rng.normal());  // labels: model + noise
  std::vector<float> out(static_cast<std::size_t>(rows * 2));
  const Metrics reference = finish_metrics(whole.evaluate(x.data(), y.data(), rows, out.data()));
  EXPECT_NEAR(reference.target_mse[0], 0.25, 0.03);
  EXPECT_GT(reference.target_r2[0], 0.8);
  run_local_ranks(3, [&](Communicator& comm) {
    const ShardRange mine = shard_range(rows, comm.size(), comm.rank());
    Scorer scorer(spec, params, 1);
    std::vector<float> o(static_cast<std::size_t>(mine.size() * 2));
    MetricSums sums = scorer.evaluate(x.data() + mine.begin * 4, y.data() + mine.begin * 2,
                                      mine.size(), o.data());
    allreduce_metrics(comm, sums);
    const Metrics m = finish_metrics(sums);
    for (int t = 0; t < 2; ++t) {
      EXPECT_NEAR(m.target_r2[t], reference.target_r2[t], 1e-9);
      EXPECT_NEAR(m.target_mse[t], reference.target_mse[t], 1e-9 * reference.target_mse[t]);
    }
  });
}

TEST(LocalCommunicator, SendRecvKeepsOrderPerPair) {
  run_local_ranks(3, [](Communicator& comm) {
    if (comm.rank() == 0) {
      for (int source = 1; source < 3; ++source)
        for (int i = 0; i < 3; ++i) {
          std::vector<float> got(static_cast<std::size_t>(i + 1));
          comm.recv(got, source, "test");
          for (float v : got) EXPECT_EQ(v, static_cast<float>(10 * source + i));
        }
      std::vector<float> wrong(5);
      EXPECT_THROW(comm.recv(wrong, 1, "test"), std::exception);
    } else {
      for (int i = 0; i < 3; ++i) {
        std::vector<float> message(static_cast<std::size_t>(i + 1), static_cast<float>(10 * comm.rank() + i));
        comm.send(message, 0, "test");
      }
      if (comm.rank() == 1) comm.send(std::vector<float>(2, 0.0f), 0, "test");
    }
  });
}

TEST(PredictionCsv, ShortestRoundTripFloats) {
  const ModelSpec spec = softmax_spec(2, 3);
  const float output[3] = {0.1f, 0.7f, 0.2f};
  std::string line;
  append_prediction_csv(spec, output, line);
  EXPECT_EQ(line, "1,0.1,0.7,0.2\n");
  EXPECT_EQ(prediction_csv_header(spec), "prediction,p_0,p_1,p_2\n");
  const ModelSpec linear = make_model_spec("linear", 2, 2, LossKind::MeanSquaredError, Activation::ReLU);
  const float values[2] = {1.0f / 3.0f, -2.5f};
  line.clear();
  append_prediction_csv(linear, values, line);
  float back = 0;
  std::from_chars(line.data(), line.data() + line.find(','), back);
  EXPECT_EQ(back, values[0]);
  EXPECT_EQ(line.substr(line.find(',')), ",-2.5\n");
  EXPECT_EQ(prediction_csv_header(linear), "value_0,value_1\n");
}

// Runs predict_stream over a pipe holding `input`; returns the answers, or the error.
std::string stream(const ModelSpec& spec, const AlignedVector<float>& params, const std::string& input,
                   std::string* error = nullptr, std::int64_t batch = 4) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  EXPECT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  std::ostringstream out;
  try {
    predict_stream(spec, params, fds[0], out, StreamOptions{2, batch});
  } catch (const DataError& e) {
    if (error) *error = e.what();
  }
  ::close(fds[0]);
  return out.str();
}

TEST(PredictStream, OneAnswerPerLineInOrder) {
  const ModelSpec spec = make_model_spec("linear", 2, 1, LossKind::MeanSquaredError, Activation::ReLU);
  const AlignedVector<float> params = {1.0f, 10.0f, 0.5f};  // y = x0 + 10 x1 + 0.5
  std::string input;
  std::string expected;
  for (int i = 0; i < 11; ++i) {
    input += std::to_string(i) + ", " + std::to_string(i % 3) + (i == 5 ? "\r\n" : "\n");
    std::string value;
    const float v = static_cast<float>(i) + 10.0f * static_cast<float>(i % 3) + 0.5f;
    append_prediction_csv(spec, &v, value);
    expected += value;
  }
  input.pop_back();  // the last line has no newline: still answered
  EXPECT_EQ(stream(spec, params, input), expected);
  EXPECT_EQ(stream(spec, params, input, nullptr, 1), expected);
  EXPECT_EQ(stream(spec, params, ""), "");
}

TEST(PredictStream, BadLinesNameTheLineAfterAnsweringEarlierOnes) {
  const ModelSpec spec = make_model_spec("linear", 2, 1, LossKind::MeanSquaredError, Activation::ReLU);
  const AlignedVector<float> params = {1.0f, 1.0f, 0.0f};
  std::string error;
  EXPECT_EQ(stream(spec, params, "1,2\n3,4\n5,6\n1,2,3\n7,8\n", &error), "3\n7\n11\n");
  EXPECT_EQ(error, "stdin line 4: expected 2 comma-separated feature values (the model's input "
                   "width), got 3");
  EXPECT_EQ(stream(spec, params, "1,2\n1,nan\n", &error), "3\n");
  EXPECT_EQ(error, "stdin line 2, column 2: NaN; expected a finite number");
  stream(spec, params, "1,inf\n", &error);
  EXPECT_EQ(error, "stdin line 1, column 2: infinite value 'inf'; expected a finite number");
  stream(spec, params, "1,2\n\n", &error);
  EXPECT_EQ(error, "stdin line 2: expected 2 comma-separated feature values (the model's input "
                   "width), got 0");
  stream(spec, params, "1,,2\n", &error);
  EXPECT_EQ(error, "stdin line 1, column 2: '' is not a number");
}

}  // namespace
}  // namespace dptrain
