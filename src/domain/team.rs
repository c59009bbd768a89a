//! Teams: names unique without regard to case or accents, kinds, provinces, size rules.
