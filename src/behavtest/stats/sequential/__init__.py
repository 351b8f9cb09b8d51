"""Group-sequential exact binomial tests: sample in batches, stop once decided.

A rate check has three verdicts: PASS rejects "the claim is false" at one-sided
level alpha, FAIL rejects "the claim is true" at alpha, INCONCLUSIVE spends the
budget without either. Drawing a fixed n wastes samples on checks that are
settled after a fraction of it (a control that never fires, a property far
above its threshold) and on checks that are going nowhere (a rate sitting at
its threshold). Here the budget N is drawn in K batches ("looks") fixed in
advance; sampling stops at the first look whose count crosses a boundary or
falls in a futility region. Fixed looks keep cached reruns deterministic:
samples 0..n_j-1 are always the same samples, so a replay reaches the same
decisions.

Why this method:

* Both error rates are largest at true rate == threshold (the binomial family
  has monotone likelihood ratio), so both boundaries are computed under
  p = threshold, and every guarantee below holds for all true rates.
* Boundaries are *exact* for binomial data: the distribution of the count at
  each look, over the paths that have not stopped yet, is carried forward by
  convolution (the Armitage, McPherson & Rowe 1969 recursion; Jennison &
  Turnbull 2000, "Group Sequential Methods", ch. 12). No normal approximation,
  which matters at the rates near 0 and 1 where behaviours live.
* alpha is spent by a Lan-DeMets spending function alpha(s) of the information
  fraction s = n_j / N (Lan & DeMets 1983, Biometrika 70:659-663; Jennison &
  Turnbull ch. 7.2): O'Brien-Fleming type, Pocock type, or the Hwang, Shih &
  DeCani (1990, Stat Med 9:1439-1445) family (``spending``). The default, HSD
  g = 4, is front-loaded because the checks that can stop early need alpha
  early: a control that never fires (0 of n) cannot PASS "rate < 0.05" before
  0.95^n < alpha(s), whatever the design, and OBF spending delays that to
  about the last looks. The price is a larger budget for the same power
  (``sequential_budget_for_power`` accounts for it).
* Discreteness: the boundary at look j is the least extreme count whose
  *cumulative* crossing probability (through look j, under p = threshold) is
  significant against alpha(s_j) (the ``significant`` rule of
  ``behavtest.stats.power``). Alpha that discreteness left unspent at earlier
  looks is carried forward (the increment allowed at look j is alpha(s_j) minus
  what was actually spent before). At the last look alpha(1) = alpha, so each
  error rate is below alpha exactly. The PASS and FAIL boundaries come from one
  recursion: paths stopped at either are removed before the next look.
* Early INCONCLUSIVE stops ("futility", ``futility``), which only ever lower
  both error rates because the boundaries above are computed as if they did
  not exist (non-binding futility, Jennison & Turnbull ch. 10):
  - deterministic curtailment (``curtail=True``): stop when no later look can
    reach PASS or FAIL whatever the remaining samples are. Changes no error
    rate and no power, only the samples spent.
  - stochastic curtailment by predictive probability (``futility=gamma``):
    stop when the predictive probability of reaching PASS or FAIL at a later
    look is below gamma, given the count so far and a Jeffreys Beta(1/2, 1/2)
    prior on the rate (Spiegelhalter, Freedman & Blackburn 1986, Control Clin
    Trials 7:8-17; Lee & Liu 2008, Clin Trials 5:93-106, for single-arm
    binomial designs; Jennison & Turnbull 10.3). Future counts are then
    beta-binomial, so one exact backward recursion over the looks gives it for
    every count. It lowers power, so ``sequential_budget_for_power`` plans the
    budget *with* the futility rule (exact power, including the stops) and the
    power target still holds. Conditional power under the current estimate k/n
    ("current trend", Lan, Simon & Halperin 1982, Sequential Analysis
    1:207-219) was evaluated too and dropped: no better at small gamma, and
    erratic above (at small n the plug-in rate is 0 or 1, so unlucky early
    counts of checks at their design alternative are stopped, and the budget
    needed to restore the power cost more samples than fixed n).
  A futility region is one interval of counts per look (``stop_at``), fixed in
  advance like the boundaries, and never contains a count whose stagewise
  p-value is significant.
* After a stop, p-values and intervals use the stagewise ordering
  (``inference``), which agrees with the decision and reduces to the exact
  binomial test and Clopper-Pearson interval when K = 1.

Defaults (``sequential_design`` and ``sequential_budget_for_power`` share
them, so the harness, which only knows the budget, rebuilds the planned
design): one look per 16 samples (the harness's provider batch, so looking
costs no extra generate call), HSD g = 4 spending, curtailment, predictive
futility gamma = 0.15, chosen on the benchmark suite of ``bench/sequential.py``
(which compares every option above); ``bench/sequential_bound.py`` computes
exactly (a linear program over all stopping rules) the least samples per
decided check any design could reach on that suite. Their figures are in
``bench/results`` and the README. An early INCONCLUSIVE rests on fewer samples
than a fixed-n one, so its interval is wider. The budget search matches PASS
power only; the bench reports FAIL power at the alternative's mirror.

Nothing here exists in scipy or statsmodels (statsmodels has no
group-sequential designs), so the recursions are written out; the tests check
them against scipy's binomial test (K = 1), against brute-force enumeration
of every Bernoulli sequence, against simulation of the stopping procedure, and
their error rates and interval coverage over grids of designs.

Modules, each importing only those above it: ``spending`` (alpha-spending
functions), ``design`` (``SequentialDesign`` and the verdict at a look),
``recursion`` (the forward recursion), ``futility`` (early INCONCLUSIVE
stops), ``build`` (``sequential_design``), ``planning`` (operating
characteristics and budgets), ``inference`` (p-values and intervals after a
stop). The public names are exported by ``behavtest.stats``.
"""
