using BenchmarkDotNet.Attributes;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;

namespace Hydrant.Benchmarks;

/// <summary>
/// Loading the full SigmaHQ rules folder (../shared/corpus/sigmahq/rules) in a warm process: the
/// compile itself (YAML, compiled tests, the rule index), without the JIT a fresh `hydrant hunt` pays.
/// </summary>
[MemoryDiagnoser]
public class RuleCompileBenchmarks
{
    private string _rules = null!;

    [GlobalSetup]
    public void Setup() => _rules = Path.Combine(DetectionBenchmarks.FindCorpus(), "sigmahq", "rules");

    [Benchmark]
    public int LoadSigmaHqRules() => RuleSet.Load(_rules, new SigmaCompiler(SigmaOptions.Default), includeDefaultPack: false).Rules.Count;
}
