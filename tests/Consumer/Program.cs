return PldrGen.Runtime.Cli.PldrCli.Run(args);
