import pandas as pd
import matplotlib.pyplot as plt
import ace_tools as tools

df = pd.read_excel('/mnt/data/sales_2024.xlsx', sheet_name='Orders')
df['order_date'] = pd.to_datetime(df['order_date'])
monthly = df.groupby(df['order_date'].dt.to_period('M'))['amount'].sum().reset_index()
tools.display_dataframe_to_user(name="Monthly revenue", dataframe=monthly)

plt.figure(figsize=(10, 6))
plt.plot(monthly['order_date'].astype(str), monthly['amount'], marker='o')
plt.title('Monthly revenue')
plt.tight_layout()
plt.savefig('/mnt/data/monthly_trend.png')
plt.show()
