!pip install openpyxl
%matplotlib inline
import numpy as np, seaborn as sns
from scipy import stats
from sklearn.model_selection import train_test_split
from sklearn.linear_model import LinearRegression
from helpers import clean_columns
from . import sibling

df = clean_columns(pd.read_csv('/mnt/data/survey.csv'))
X_train, X_test, y_train, y_test = train_test_split(df[['age']], df['score'], test_size=0.2)
model = LinearRegression().fit(X_train, y_train)
print(stats.pearsonr(df['age'], df['score']))
df.describe()?
