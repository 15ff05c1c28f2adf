using Converge.Cli;

// Providers do blocking file I/O (fsync above all) on pool threads; start with enough threads that
// 64 concurrent resources never wait for the pool's slow thread injection.
ThreadPool.SetMinThreads(Math.Max(64, Environment.ProcessorCount), Math.Max(64, Environment.ProcessorCount));

return await CliApp.RunAsync(args);
