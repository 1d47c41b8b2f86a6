return PldrGen.CommandLine.PldrCli.Run(args);
