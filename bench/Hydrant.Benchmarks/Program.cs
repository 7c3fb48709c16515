using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Hydrant.Benchmarks.ParserBenchmarks).Assembly).Run(args);
