"""The portal's service layer: the rules of each area, with no Flask in them."""
