// The whole pldr app: the generator compiles specs/*.pldr.yaml into this assembly and registers them.
return PldrGen.CommandLine.PldrCli.Run(args);
