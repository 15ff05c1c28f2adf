using Converge.Cli;

return await CliApp.RunAsync(args);
