using System.CommandLine;
using PldrGen.Runtime;
using PldrGen.Runtime.Generation;
using PldrGen.Runtime.Text;

namespace PldrGen.CommandLine;

/// <summary>
/// <c>pldr chat</c>: one sequence that grows line by line. The released PLDR-LLMs are base models without a chat
/// template, so the prompt format is the plain text itself: each line read is appended to the sequence as its tokens
/// (no BOS, no separator), the model continues it for up to --max-new-tokens tokens or to [END], and the next line
/// is appended after that continuation. The KV-cache and the G-cache of the first line's prefill are kept between
/// turns, so a turn costs only its own tokens. Commands: <c>/reset</c> starts a new sequence,
/// <c>/gcache save FILE</c> saves the G-cache in use, <c>/quit</c> (or end of input) ends.
/// </summary>
static class ChatCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var model = new ModelOptions();
        var run = new RunOptions();
        var command = new Command("chat", "Continue one sequence line by line, keeping the KV- and G-cache (/reset, /gcache save FILE, /quit)");
        model.AddTo(command, withPrompt: false);
        run.AddTo(command);
        command.SetAction(result =>
        {
            var sampling = run.Check(result);
            string directory = model.ModelDirectory(result);
            var info = ModelResolver.Resolve(directory);
            var tokenizer = ModelOptions.TokenizerOf(directory)
                ?? throw new PldrException($"{directory}: chat needs the model's tokenizer.model");
            var pldr = run.Load(result, info, directory, stderr);
            try
            {
                run.WarmUp(result, pldr);
                var session = new Session(pldr, tokenizer, new Sampler(sampling, info.Config.VocabSize), new TextOutput(stdout), stderr,
                    result.GetValue(run.MaxNewTokens), result.GetValue(run.IgnoreEos));
                if (!Console.IsInputRedirected)
                    stderr.WriteLine($"pldr chat: {info.Name}, {info.Config.MaxPositionEmbeddings} positions. Type text to continue it; /reset, /gcache save FILE, /quit.");
                while (true)
                {
                    if (!Console.IsInputRedirected) stderr.Write("> ");
                    string? line = Console.In.ReadLine();
                    if (line is null || line.Trim() == "/quit") return 0;
                    session.Turn(line, cancel);
                }
            }
            finally
            {
                (pldr as IDisposable)?.Dispose();
            }
        });
        return command;
    }

    sealed class Session(IPldrModel model, PldrTokenizer tokenizer, Sampler sampler, TextOutput output, TextWriter stderr, int maxNewTokens, bool ignoreEos)
    {
        float[] logits = [];

        public void Turn(string line, CancellationToken cancel)
        {
            string trimmed = line.Trim();
            if (trimmed == "/reset")
            {
                model.Reset();
                stderr.WriteLine("pldr: new sequence");
                return;
            }
            if (trimmed.StartsWith("/gcache save ", StringComparison.Ordinal))
            {
                SaveGCache(trimmed["/gcache save ".Length..].Trim());
                return;
            }
            if (trimmed.StartsWith('/'))
            {
                stderr.WriteLine($"pldr: '{trimmed}' is not a chat command; the commands are /reset, /gcache save FILE, /quit");
                return;
            }
            if (line.Length == 0) return;
            var tokens = tokenizer.EncodePrompt(line);
            int context = model.Info.Config.MaxPositionEmbeddings;
            if (model.Position + tokens.Length >= context)
            {
                stderr.WriteLine($"pldr: this line does not fit the rest of the context ({context - model.Position} of {context} positions left); /reset starts over");
                return;
            }
            // The first line is prefilled (and computes the G-cache); later lines are appended to the caches.
            if (model.Position == 0) logits = model.Prefill(tokens).ToArray();
            else foreach (int token in tokens) logits = model.Decode(token).ToArray();

            var text = tokenizer.CreateStreamingDecoder();
            foreach (int token in tokens) text.Append(token);
            for (int step = 0; step < maxNewTokens && !cancel.IsCancellationRequested; step++)
            {
                int token = sampler.Next(logits);
                output.Write(text.Append(token));
                // Every drawn token joins the sequence, so the next line continues after it.
                if (model.Position >= context) break;
                logits = model.Decode(token).ToArray();
                if (token == model.Info.EosToken && !ignoreEos) break;
            }
            output.WriteLine(text.Flush());
        }

        void SaveGCache(string path)
        {
            if (model.Position == 0)
            {
                stderr.WriteLine("pldr: no G-cache yet: it is made by the first line's prefill");
                return;
            }
            try
            {
                model.CaptureGCache().Save(path, new Dictionary<string, string> { ["model"] = model.Info.TypeName });
                stderr.WriteLine($"pldr: wrote {path}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PldrException)
            {
                stderr.WriteLine($"pldr: cannot save the G-cache: {e.Message}");
            }
        }
    }
}
