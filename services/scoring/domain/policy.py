"""Everything the rules are evaluated against: thresholds, the fitted models and the RFM cut points."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.scoring.domain.bgnbd import BgNbdParams
from services.scoring.domain.complaints import Lexicon, lexicon
from services.scoring.domain.gamma_gamma import GammaGammaParams
from services.scoring.domain.rules import ScoringRules
from services.scoring.domain.value_tier import RfmCuts

# Until the first fit: the published CDNOW estimates (Fader, Hardie & Lee 2005) with time
# rescaled from weeks to days (α × 7), and the CDNOW Gamma-Gamma spend with its scale in minor
# units (v × 100). They give sensible P(alive) values from the first event; `fit` replaces them.
PRIOR_BGNBD = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
PRIOR_SPEND = GammaGammaParams(p=6.25, q=3.74, v=15.44 * 100)


@dataclass(frozen=True)
class ScoringModel:
    """A versioned parameter set; version 0 is the prior, fitted sets count up from 1."""

    version: int = 0
    bgnbd: BgNbdParams = PRIOR_BGNBD
    spend: GammaGammaParams = PRIOR_SPEND


@dataclass(frozen=True)
class Policy:
    rules: ScoringRules = field(default_factory=ScoringRules)
    model: ScoringModel = field(default_factory=ScoringModel)
    rfm_cuts: RfmCuts | None = None
    complaints: Lexicon = field(default_factory=lexicon)
