# save tables --------------------------------------------------------------

# save desc_data
write.table(desc_data,
  sep = ",",
  file = "./outputs/tables/TabS1.csv",
  quote = FALSE, col.names = FALSE
)

# save desc_stat
write.table(desc_stat,
  sep = ",",
  file = "./outputs/tables/TabS2.csv",
  quote = FALSE, row.names = FALSE
)

# save desc_cor
write.table(desc_cor,
  sep = ",",
  file = "./outputs/tables/TabS3.csv",
  quote = FALSE, row.names = TRUE
)

# save auc
write.table(auc,
  sep = ",",
  file = "./outputs/tables/Tab4.csv",
  quote = FALSE, col.names = FALSE
)

# save redux_sorted_load
if (redux_method != "none") {
  write.table(redux_sorted_load,
    sep = ",",
    file = "./outputs/tables/TabS5.csv",
    quote = FALSE, row.names = TRUE
  )
}

# save plots ---------------------------------------------------------------

# save plot p_cor
ggsave(
  filename = paste0("./outputs/figures/pdf/", "FigS1", ".pdf"),
  plot = p_cor,
  width = width_factor * 105, height = height_factor * 74.25, units = "mm"
)
ggsave(
  filename = paste0("./outputs/figures/png/", "FigS1", ".png"),
  plot = p_cor,
  width = width_factor * 105, height = height_factor * 74.25, units = "mm"
)

# save plot p_rf_tree
ggsave(
  filename = paste0("./outputs/figures/pdf/", "FigS2", ".pdf"),
  plot = p_rf_tree,
  width = width_factor * 105, height = height_factor * 74.25, units = "mm"
)
ggsave(
  filename = paste0("./outputs/figures/png/", "FigS2", ".png"),
  plot = p_rf_tree,
  width = width_factor * 105, height = height_factor * 74.25, units = "mm"
)
